//! `kpr-bridge check`: every configured source read, mapped and checked for one year.
//!
//! A source that cannot be read is reported and the others are still checked, so that one
//! broken export never hides what is wrong elsewhere.

use crate::assembly::assemble::assemble;
use crate::assembly::checker::check_year;
use crate::assembly::controls::ControlFinding;
use crate::checks::{CheckOptions, CheckReport, Severity, SourceRecords, TestUsers, check};
use crate::config::url;
use crate::config::{Config, Mode, SourceConfig, SourceKind};
use crate::mapping::{Mapping, MappingError};
use crate::message::iplos37::{self, Header};
use crate::model::assessment::AssessmentVariables;
use crate::source::iplos::IplosOptions;
use crate::source::{
    Problem, ReadSummary, RecordKind, Snapshot, read_database, read_extract, read_iplos,
};

/// One source, as read.
pub struct SourceRun {
    pub name: String,
    /// `extract /srv/epj-export` or `database postgres://reader@host/epj` (no password).
    pub origin: String,
    /// What went wrong reading it as a whole: no directory, no connection, no mapping.
    pub unusable: Option<String>,
    /// `None` when the source could not be read at all.
    pub summary: Option<ReadSummary>,
}

impl SourceRun {
    pub fn records(&self, kind: RecordKind) -> u64 {
        self.summary.as_ref().map_or(0, |s| s.records(kind))
    }

    /// Problems reading rows and values (each is named in the summary).
    pub fn problems(&self) -> u64 {
        self.summary.as_ref().map_or(0, |s| s.problems.total())
    }

    /// Whether something of the source could not be read at all.
    pub fn is_unusable(&self) -> bool {
        self.unusable.is_some() || self.summary.as_ref().is_some_and(ReadSummary::unusable)
    }
}

pub struct CheckRun {
    pub year: i32,
    pub sources: Vec<SourceRun>,
    pub report: CheckReport,
    /// The register's arrival checks on KPR_IPL as the year would be written.
    pub controls: Vec<ControlFinding>,
}

impl CheckRun {
    /// 0 clean, 1 findings of severity error or rows that could not be read, 2 a source or
    /// a part of it that could not be read at all.
    pub fn exit_code(&self) -> u8 {
        if self.sources.iter().any(SourceRun::is_unusable) {
            2
        } else if self.report.has_errors()
            || self.sources.iter().any(|s| s.problems() > 0)
            || self
                .controls
                .iter()
                .any(|f| f.severity() == Some(Severity::Error))
        {
            1
        } else {
            0
        }
    }
}

/// Reads every source of `config` and checks the year.
pub fn run(config: &Config, year: i32) -> CheckRun {
    let read: Vec<ReadSource> = config
        .sources
        .iter()
        .map(|s| read_source(&config.municipality, s))
        .collect();
    let report = check_read(config, year, &read);
    let controls = register_controls(config, year, &read, &report);
    let (sources, records): (Vec<SourceRun>, Vec<_>) = read.into_iter().unzip();
    std::thread::spawn(move || drop(records));
    CheckRun {
        year,
        sources,
        report,
        controls,
    }
}

/// The register's own arrival checks ([`crate::assembly::controls`]) on KPR_IPL as `annual`
/// would write the year: assembled, and each person's records checked as the writer makes
/// them, without the document being written. The persons are numbered in one fixed order,
/// not the message's random one, so that the same data gives the same report: its examples
/// name a person by that number.
pub fn register_controls(
    config: &Config,
    year: i32,
    read: &[ReadSource],
    report: &CheckReport,
) -> Vec<ControlFinding> {
    let mut fixed = <rand_chacha::ChaCha8Rng as rand::SeedableRng>::seed_from_u64(0);
    let assembled = assemble(&records(config, read), year, report, &mut fixed);
    let header = Header {
        shipment: uuid::Uuid::nil(),
        municipality: config.municipality.clone(),
        district: config
            .municipality_district
            .clone()
            .unwrap_or_else(|| "00".into()),
        institution: config.municipality.clone(),
        year,
        generated: chrono::Utc::now(),
        running_number: 1,
        epj: Vec::new(),
        contacts: config.contacts.clone(),
        namespace: iplos37::namespace(year),
    };
    let findings = check_year(&assembled.persons, &header, &variables(read));
    // A year's persons take long to free, one allocation at a time: not on the way out.
    std::thread::spawn(move || drop(assembled));
    findings
}

/// The sources that could be read, beside their configuration, as the checks take them.
pub fn records<'a>(config: &'a Config, read: &'a [ReadSource]) -> Vec<SourceRecords<'a>> {
    config
        .sources
        .iter()
        .zip(read)
        .filter_map(|(source, (_, data))| {
            let (snapshot, mapping) = data.as_ref()?;
            Some(SourceRecords {
                name: &source.name,
                records: snapshot,
                mapping,
                from: source.from,
                to: source.to,
            })
        })
        .collect()
}

/// Checks the year over sources already read (one [`ReadSource`] per configured source).
pub fn check_read(config: &Config, year: i32, read: &[ReadSource]) -> CheckReport {
    let test_users = TestUsers::new(&config.test_user_names);
    let variables = variables(read);
    let options = CheckOptions {
        year,
        production: config.mode == Mode::Production,
        test_users: &test_users,
        variables: &variables,
    };
    check(&records(config, read), &options)
}

/// The assessment variables: the built-in names and each read source's own (`[[variable]]` in
/// its mapping file).
pub fn variables(read: &[ReadSource]) -> AssessmentVariables {
    let mapped = read
        .iter()
        .filter_map(|(_, data)| data.as_ref())
        .flat_map(|(_, mapping)| mapping.variables().iter().cloned());
    AssessmentVariables::extended(mapped)
}

/// A source as read: how it went, and its records with its mapping when it could be read.
pub type ReadSource = (SourceRun, Option<(Snapshot, Mapping)>);

/// A source's mapping: its file, or for an IPLOS source the national codes (after the
/// file's rules, when it has one).
pub fn load_mapping(source: &SourceConfig) -> Result<Mapping, MappingError> {
    let iplos = matches!(source.kind, SourceKind::Iplos { .. });
    match &source.mapping {
        Some(path) if iplos => Mapping::load(path).map(Mapping::with_national_codes),
        Some(path) => Mapping::load(path),
        None => Ok(Mapping::national()),
    }
}

/// Reads one source of `municipality` and loads its mapping.
pub fn read_source(municipality: &str, source: &SourceConfig) -> ReadSource {
    let origin = match &source.kind {
        SourceKind::Extract { path } => format!("extract {}", path.display()),
        SourceKind::Database { url, .. } => format!("database {}", url::redacted(url)),
        SourceKind::Iplos { path, .. } => format!("IPLOS extract {}", path.display()),
    };
    let mut run = SourceRun {
        name: source.name.clone(),
        origin,
        unusable: None,
        summary: None,
    };
    let mapping = match load_mapping(source) {
        Ok(mapping) => mapping,
        Err(error) => {
            run.unusable = Some(format!("source '{}': {error}", source.name));
            return (run, None);
        }
    };
    let mut records = Snapshot::default();
    let read = match &source.kind {
        SourceKind::Extract { path } => {
            read_extract(path, &mut records).map_err(|problem| Problem {
                file: format!("source '{}': {}", source.name, problem.file),
                ..problem
            })
        }
        SourceKind::Database { url, queries } => {
            read_database(&source.name, url, queries, &mut records)
        }
        SourceKind::Iplos {
            path,
            settle,
            keep_done,
        } => {
            let options = IplosOptions {
                municipality: municipality.to_string(),
                settle: *settle,
                keep_done: *keep_done,
                take: true,
            };
            read_iplos(path, &options, &mut records).map_err(|problem| Problem {
                file: format!("source '{}': {}", source.name, problem.file),
                ..problem
            })
        }
    };
    match read {
        Ok(summary) => {
            run.summary = Some(summary);
            (run, Some((records, mapping)))
        }
        Err(problem) => {
            run.unusable = Some(problem.to_string());
            (run, None)
        }
    }
}
