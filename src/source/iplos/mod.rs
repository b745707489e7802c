//! A directory where the EPJ writes its IPLOS 3.7 extract (fagmelding + identmelding), read
//! into the canonical records: the one export every municipal EPJ already makes.
//!
//! - [`xml`] opens a file (declared encoding, MsgHead looked through, no DOCTYPE);
//! - [`head`] says what a file is (which of the pair, municipality, period);
//! - [`inbox`] takes pairs (settle time, newest wins, `done/`, `quarantine/`);
//! - [`identities`] reads the identmelding, and is the one place that pairs `pid` with
//!   `pePeID`;
//! - [`fagmelding`] streams the persons into records.
//!
//! What the format cannot say: no temporary stops (no `MidlertidigStopp` comes from this
//! source), no names (test users are not recognised by name), no EPJ service id beyond
//! `tjVeID` + `tjVeNrID`, and person numbers that are local to one extract (the daily flow
//! finds a person again by identity number, and gives each a `brukerNr` of its own).

pub mod fagmelding;
pub mod head;
pub mod identities;
pub mod inbox;
pub mod xml;

use std::path::Path;
use std::time::Duration;

use self::identities::{Identities, located};
use self::inbox::{Handling, Pair};
use self::xml::XmlFile;
use super::problem::{Problem, Problems};
use super::reader::{ReadSummary, RecordKind, RecordSink, Snapshot, TableSummary};

/// What users are told wherever an IPLOS source is shown.
pub const CANNOT_SAY: &str = "IPLOS 3.7 has no temporary stops: no MidlertidigStopp is reported from this source (a second source may give them)";

#[derive(Clone, Debug)]
pub struct IplosOptions {
    /// The configured municipality: a pair from another is refused.
    pub municipality: String,
    pub settle: Duration,
    pub keep_done: Duration,
    /// Take new pairs (move them into `done/` or `quarantine/`); `false` only looks, for
    /// `inspect`.
    pub take: bool,
}

/// Reads the current pair of the IPLOS directory `dir` into `sink`: a new one in the
/// directory when it has settled (taken into `done/`), else the last one taken. `Err` when
/// the directory is unusable; a directory without any pair yet is a fatal problem in the
/// summary, beside the problems within files.
pub fn read_iplos(
    dir: &Path,
    options: &IplosOptions,
    sink: &mut impl RecordSink,
) -> Result<ReadSummary, Problem> {
    let shown = dir.display().to_string();
    if !dir.is_dir() {
        return Err(Problem::file(
            &shown,
            "is not a directory",
            "create it and let the EPJ write its IPLOS extract (fagmelding and identmelding) into it",
        ));
    }
    let handling = Handling {
        municipality: &options.municipality,
        settle: options.settle,
        keep_done: options.keep_done,
    };
    let mut problems = Problems::default();
    let mut read = None;
    if options.take {
        let _lock = inbox::lock(dir).map_err(|e| {
            Problem::file(
                &shown,
                format!("cannot be locked for taking pairs: {e}"),
                "give kpr-bridge write access to the directory",
            )
        })?;
        inbox::take(dir, &handling, &mut problems);
        for folder in inbox::taken(dir) {
            let Some(pair) = inbox::pair_in(&folder, &mut problems) else {
                continue;
            };
            match read_pair(&pair, &mut problems) {
                Ok(records) => {
                    read = Some((pair, records));
                    break;
                }
                Err(problem) => {
                    // The last good pair stands in; the broken one is set aside for good.
                    inbox::refuse_taken(dir, &pair, &problem);
                    problems.push(problem.not_fatal());
                }
            }
        }
    } else if let Some(pair) = inbox::look(dir, &handling, &mut problems).or_else(|| {
        inbox::taken(dir)
            .iter()
            .find_map(|f| inbox::pair_in(f, &mut problems))
    }) {
        let records = read_pair(&pair, &mut problems)?;
        read = Some((pair, records));
    }
    let Some((pair, records)) = read else {
        // Fatal, so the source counts as unread; with what was refused on the way.
        problems.push(Problem::file(
            &shown,
            "holds no IPLOS extract yet (no fagmelding, here or in done/)",
            "let the EPJ write its IPLOS extract for the current year into the directory; a file is taken once it has not changed for the settle time",
        ));
        return Ok(ReadSummary {
            tables: Vec::new(),
            problems,
        });
    };
    let name = pair.fagmelding.name.clone();
    let counts = [
        (RecordKind::Persons, records.persons.len()),
        (RecordKind::Services, records.services.len()),
        (RecordKind::Assessments, records.assessments.len()),
        (RecordKind::Diagnoses, records.diagnoses.len()),
        (RecordKind::Attributes, records.attributes.len()),
    ];
    let Snapshot {
        persons,
        services,
        assessments,
        diagnoses,
        attributes,
    } = records;
    persons.into_iter().for_each(|p| sink.person(p));
    services.into_iter().for_each(|s| sink.service(s));
    assessments
        .iter()
        .for_each(|a| sink.assessment(a.to_assessment()));
    diagnoses.into_iter().for_each(|d| sink.diagnosis(d));
    attributes.into_iter().for_each(|a| sink.attribute(a));
    Ok(ReadSummary {
        tables: counts
            .into_iter()
            .map(|(kind, records)| TableSummary {
                kind,
                name: Some(name.clone()),
                encoding: None,
                records: records as u64,
            })
            .collect(),
        problems,
    })
}

/// Reads one pair: the identmelding first (small), then the fagmelding person by person.
/// `Err` when either file cannot be read to its end.
fn read_pair(pair: &Pair, problems: &mut Problems) -> Result<Snapshot, Problem> {
    let fag = &pair.fagmelding;
    let mut identities = match &pair.identmelding {
        Some(ide) => {
            let mut file = XmlFile::open(&ide.path).map_err(|p| located(&ide.name, p))?;
            head::read(&mut file).map_err(|p| located(&ide.name, p))?;
            let mut own = Problems::default();
            let identities = Identities::read(&mut file, &ide.name, &mut own);
            if let Some(fatal) = own.kept().iter().find(|p| p.fatal) {
                return Err(fatal.clone());
            }
            for problem in own.kept() {
                problems.push(problem.clone());
            }
            Some(identities)
        }
        None => {
            problems.push(
                Problem::file(
                    &fag.name,
                    "has no identmelding beside it: none of its persons has an identity number, so all are held back",
                    "let the EPJ write the identmelding (XPR(ide) 53.1.3) of the same extract into the directory",
                )
                .not_fatal(),
            );
            None
        }
    };
    let mut file = XmlFile::open(&fag.path).map_err(|p| located(&fag.name, p))?;
    let head = head::read(&mut file).map_err(|p| located(&fag.name, p))?;
    let mut records = Snapshot::default();
    fagmelding::read(
        &mut file,
        &head,
        &fag.name,
        identities.as_mut(),
        problems,
        &mut records,
    )
    .map_err(|p| located(&fag.name, p))?;
    Ok(records)
}
