//! `kpr-bridge inspect`: read an extract (or an IPLOS directory), map it, and count what it
//! holds — the first look an operator takes at a new EPJ export, before any checks or
//! sending. It only looks: an IPLOS pair is read where it lies, never taken.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use crate::config::DEFAULT_KEEP_DONE;
use crate::i18n::Language;
use crate::mapping::{Mapping, Resolution, reporting_day};
use crate::model::{
    Assessment, AttributeKind, Decision, Diagnosis, Person, PersonAttribute, Service, ServiceCode,
};
use crate::source::extract::READY;
use crate::source::extract::file_name;
use crate::source::iplos::IplosOptions;
use crate::source::{Problem, ReadSummary, RecordSink, read_extract, read_iplos};

/// A figure grouped as `inspect` writes it: `1 234 567`.
fn thousands(n: u64) -> String {
    Language::Nb.number(n)
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DecisionCounts {
    pub granted: u64,
    pub refused: u64,
}

#[derive(Debug)]
pub struct Inspection {
    pub year: i32,
    pub extract: ReadSummary,
    pub per_code: BTreeMap<ServiceCode, DecisionCounts>,
    /// Services whose local type maps to a person attribute.
    pub as_attribute: BTreeMap<AttributeKind, u64>,
    /// Local types mapped to nothing: count and the mapping's reason.
    pub ignored: BTreeMap<String, (u64, String)>,
    pub unmapped: BTreeMap<String, u64>,
}

impl Inspection {
    /// 0 clean, 1 problems or unmapped types, 2 an unusable file.
    pub fn exit_code(&self) -> u8 {
        if self.extract.unusable() {
            2
        } else if !self.extract.problems.is_empty() || !self.unmapped.is_empty() {
            1
        } else {
            0
        }
    }
}

/// Whether `dir` is an IPLOS directory rather than an extract: it has neither `READY` nor
/// `persons.csv`, and XML files or pairs taken into `done/`.
pub fn looks_like_iplos(dir: &Path) -> bool {
    let xml = std::fs::read_dir(dir).is_ok_and(|entries| {
        entries.flatten().any(|e| {
            e.path()
                .extension()
                .is_some_and(|x| x.eq_ignore_ascii_case("xml"))
        })
    });
    !dir.join(READY).exists()
        && !dir
            .join(file_name(crate::source::RecordKind::Persons))
            .exists()
        && (xml || dir.join(crate::source::iplos::inbox::DONE).is_dir())
}

/// What `inspect` reads: an extract, or an IPLOS directory of `municipality` (any, when
/// `None`: inspect has no configuration).
pub enum Origin<'a> {
    Extract,
    Iplos { municipality: Option<&'a str> },
}

/// Reads and maps the extract (or IPLOS directory) in `dir` for reporting year `year`.
pub fn inspect(
    dir: &Path,
    origin: Origin,
    mapping: &Mapping,
    year: i32,
) -> Result<Inspection, Problem> {
    let mut counter = Counter {
        mapping,
        year,
        per_code: BTreeMap::new(),
        as_attribute: BTreeMap::new(),
        ignored: BTreeMap::new(),
        unmapped: BTreeMap::new(),
    };
    let extract = match origin {
        Origin::Extract => read_extract(dir, &mut counter)?,
        Origin::Iplos { municipality } => {
            let options = IplosOptions {
                municipality: municipality.unwrap_or_default().to_string(),
                settle: std::time::Duration::ZERO,
                keep_done: DEFAULT_KEEP_DONE,
                take: false,
            };
            read_iplos(dir, &options, &mut counter)?
        }
    };
    Ok(Inspection {
        year,
        extract,
        per_code: counter.per_code,
        as_attribute: counter.as_attribute,
        ignored: counter.ignored,
        unmapped: counter.unmapped,
    })
}

struct Counter<'m> {
    mapping: &'m Mapping,
    year: i32,
    per_code: BTreeMap<ServiceCode, DecisionCounts>,
    as_attribute: BTreeMap<AttributeKind, u64>,
    ignored: BTreeMap<String, (u64, String)>,
    unmapped: BTreeMap<String, u64>,
}

impl RecordSink for Counter<'_> {
    fn person(&mut self, _: Person) {}

    fn service(&mut self, service: Service) {
        let day = reporting_day(&service, self.year);
        match self.mapping.resolve(&service.local_type, day) {
            Resolution::Service(code) => {
                let counts = self.per_code.entry(code).or_default();
                match service.decision {
                    Decision::Granted => counts.granted += 1,
                    Decision::Refused => counts.refused += 1,
                }
            }
            Resolution::Attribute(kind) => *self.as_attribute.entry(kind).or_default() += 1,
            Resolution::Ignored(reason) => {
                let entry = self
                    .ignored
                    .entry(service.local_type.into())
                    .or_insert((0, reason.to_string()));
                entry.0 += 1;
            }
            Resolution::Unmapped => {
                *self.unmapped.entry(service.local_type.into()).or_default() += 1
            }
        }
    }

    fn assessment(&mut self, _: Assessment) {}
    fn diagnosis(&mut self, _: Diagnosis) {}
    fn attribute(&mut self, _: PersonAttribute) {}
}

/// The report an operator reads; `max_problems` caps the problem lines shown.
pub fn render(
    inspection: &Inspection,
    dir: &Path,
    mapping: &Mapping,
    max_problems: usize,
) -> String {
    let mut out = String::new();
    let iplos = inspection
        .extract
        .tables
        .iter()
        .find(|t| t.encoding.is_none())
        .and_then(|t| t.name.as_deref());
    match iplos {
        Some(fagmelding) => {
            let _ = writeln!(
                out,
                "IPLOS extract {}, fagmelding {fagmelding}",
                dir.display()
            );
        }
        None => {
            let _ = writeln!(out, "Extract {}", dir.display());
        }
    }
    for table in &inspection.extract.tables {
        let state = match (&table.name, table.encoding) {
            (Some(_), Some(encoding)) => {
                format!("{} records ({encoding})", thousands(table.records))
            }
            (Some(_), None) => format!("{} records", thousands(table.records)),
            (None, _) => "not read".to_string(),
        };
        let what = match iplos {
            Some(_) => table.kind.as_str().to_string(),
            None => file_name(table.kind),
        };
        let _ = writeln!(out, "  {what:<16} {state}");
    }
    if iplos.is_some() {
        let _ = writeln!(out, "  {}", crate::source::iplos::CANNOT_SAY);
    }
    let _ = writeln!(
        out,
        "\nNational service codes in {} (mapping {})",
        inspection.year,
        mapping.file().display()
    );
    let _ = writeln!(
        out,
        "  {:<6} {:<58} {:>10} {:>10}",
        "code", "service", "granted", "refused"
    );
    let mut total = DecisionCounts::default();
    for (code, counts) in &inspection.per_code {
        let name = code.info().map_or("", |i| i.name);
        let _ = writeln!(
            out,
            "  {:<6} {:<58} {:>10} {:>10}",
            code.to_string(),
            name,
            thousands(counts.granted),
            thousands(counts.refused)
        );
        total.granted += counts.granted;
        total.refused += counts.refused;
    }
    let _ = writeln!(
        out,
        "  {:<6} {:<58} {:>10} {:>10}",
        "",
        "total",
        thousands(total.granted),
        thousands(total.refused)
    );
    if !inspection.as_attribute.is_empty() {
        let _ = writeln!(out, "\nLocal types reported as person attributes");
        for (kind, count) in &inspection.as_attribute {
            let _ = writeln!(out, "  {kind:<30} {:>10}", thousands(*count));
        }
    }
    if !inspection.ignored.is_empty() {
        let _ = writeln!(out, "\nLocal types not reported, by the mapping");
        for (local_type, (count, reason)) in &inspection.ignored {
            let _ = writeln!(
                out,
                "  {local_type:<20} {:>10}  {reason}",
                thousands(*count)
            );
        }
    }
    if !inspection.unmapped.is_empty() {
        let _ = writeln!(
            out,
            "\nUnmapped local types: add a rule for each to {}",
            mapping.file().display()
        );
        for (local_type, count) in &inspection.unmapped {
            let _ = writeln!(out, "  {local_type:<20} {:>10} services", thousands(*count));
        }
    }
    let problems = &inspection.extract.problems;
    if problems.is_empty() {
        let _ = writeln!(out, "\nNo problems in the extract.");
    } else {
        let _ = writeln!(out, "\nProblems: {}", thousands(problems.total()));
        for problem in problems.kept().iter().take(max_problems) {
            let _ = writeln!(out, "  {problem}");
        }
        let shown = problems.kept().len().min(max_problems) as u64;
        if problems.total() > shown {
            let _ = writeln!(out, "  … and {} more", thousands(problems.total() - shown));
        }
    }
    out
}
