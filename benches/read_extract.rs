//! Reading and mapping a generated extract, against the floor: reading the same bytes and
//! splitting them on ';' and newlines, with no decoding, parsing or checking. A middle phase,
//! the csv crate alone, shows what splitting with quote handling costs by itself.
//!
//!     cargo bench --bench read_extract -- --persons 1000000
//!
//!     cargo bench --bench read_extract -- --persons 60000 --floor-only
//!
//! `--floor-only` runs the floor alone and prints one line for scripts (benches/scale.sh):
//! `floor SECONDS LINES BYTES PEAK_BYTES`.
//!
//! The extract is generated once into target/bench-data/ and reused. Each phase runs three
//! times (warm page cache); the median time is reported, with the peak resident memory of the
//! phase (VmHWM, reset between phases through /proc/self/clear_refs).

use std::fs::File;
use std::io::Read;
use std::path::Path;
use std::time::Duration;

use kpr_bridge::generate::{self, Options, OutputEncoding};
use kpr_bridge::mapping::Mapping;

#[path = "measure/mod.rs"]
mod measure;
use measure::phase;

const FILES: [&str; 5] = [
    "persons.csv",
    "services.csv",
    "assessments.csv",
    "diagnoses.csv",
    "attributes.csv",
];

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let persons: u64 = args
        .iter()
        .position(|a| a == "--persons")
        .and_then(|i| args.get(i + 1))
        .map_or(1_000_000, |n| n.parse().expect("--persons takes a number"));
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = root.join(format!("target/bench-data/extract-{persons}-seed1"));
    ensure_extract(&dir, persons);
    let mapping =
        Mapping::load(&root.join("mappings/sample-epj.toml")).expect("sample mapping loads");

    let bytes: u64 = FILES
        .iter()
        .map(|f| std::fs::metadata(dir.join(f)).map_or(0, |m| m.len()))
        .sum();
    println!(
        "extract: {persons} persons, {:.1} MB in {}",
        bytes as f64 / 1e6,
        dir.display()
    );

    let (floor_time, floor_peak, lines) = phase(|| floor(&dir));
    if args.iter().any(|a| a == "--floor-only") {
        println!(
            "floor {:.6} {lines} {bytes} {floor_peak}",
            floor_time.as_secs_f64()
        );
        return;
    }
    let (csv_time, csv_peak, csv_rows) = phase(|| csv_only(&dir));
    let (read_time, read_peak, records) = phase(|| {
        let inspection = kpr_bridge::inspect::inspect(
            &dir,
            kpr_bridge::inspect::Origin::Extract,
            &mapping,
            2025,
        )
        .expect("extract reads");
        assert!(
            inspection.extract.problems.is_empty(),
            "a generated extract reads cleanly"
        );
        inspection
            .extract
            .tables
            .iter()
            .map(|f| f.records)
            .sum::<u64>()
    });

    let rate = |count: u64, time: Duration| count as f64 / time.as_secs_f64();
    println!(
        "{:<28} {:>10} {:>14} {:>10} {:>12}",
        "phase", "seconds", "rows/s", "MB/s", "peak MB"
    );
    for (name, time, rows, peak) in [
        ("floor: read + split", floor_time, lines, floor_peak),
        ("csv crate + UTF-8 only", csv_time, csv_rows, csv_peak),
        ("read + decode + map", read_time, records, read_peak),
    ] {
        println!(
            "{name:<28} {:>10.3} {:>14.0} {:>10.0} {:>12.1}",
            time.as_secs_f64(),
            rate(rows, time),
            bytes as f64 / 1e6 / time.as_secs_f64(),
            peak as f64 / 1e6
        );
    }
    println!(
        "speed relative to the floor: {:.2} (goal: at least 0.50); the csv crate alone: {:.2}",
        floor_time.as_secs_f64() / read_time.as_secs_f64(),
        floor_time.as_secs_f64() / csv_time.as_secs_f64()
    );
}

fn ensure_extract(dir: &Path, persons: u64) {
    if dir.join("READY").exists() {
        return;
    }
    eprintln!(
        "generating {persons} persons into {} (once)…",
        dir.display()
    );
    let options = Options {
        persons,
        seed: 1,
        year: 2025,
        municipality: "4601".into(),
        encoding: OutputEncoding::Utf8,
    };
    generate::generate(dir, &options).expect("extract generates");
}

/// The floor: every byte read, every field delimited, nothing decoded. Returns the line count.
fn floor(dir: &Path) -> u64 {
    let mut buffer = vec![0u8; 1 << 20];
    let (mut lines, mut fields, mut field_bytes, mut current) = (0u64, 0u64, 0u64, 0u64);
    for name in FILES {
        let mut file = File::open(dir.join(name)).expect("extract file opens");
        loop {
            let n = file.read(&mut buffer).expect("extract file reads");
            if n == 0 {
                break;
            }
            for &byte in &buffer[..n] {
                match byte {
                    b';' | b'\n' => {
                        fields += 1;
                        field_bytes += current;
                        current = 0;
                        lines += u64::from(byte == b'\n');
                    }
                    _ => current += 1,
                }
            }
        }
    }
    std::hint::black_box((fields, field_bytes));
    lines
}

/// What any reader built on the csv crate pays at least: records split (with quoting) and
/// checked as UTF-8, nothing else. Returns the record count.
fn csv_only(dir: &Path) -> u64 {
    let mut records = 0;
    for name in FILES {
        let mut reader = csv::ReaderBuilder::new()
            .delimiter(b';')
            .has_headers(false)
            .from_path(dir.join(name))
            .expect("extract file opens");
        let mut record = csv::ByteRecord::new();
        while reader
            .read_byte_record(&mut record)
            .expect("extract file reads")
        {
            records += u64::from(std::str::from_utf8(record.as_slice()).is_ok());
        }
    }
    records
}
