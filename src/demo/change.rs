//! The day's change the demo makes in its extract between two daily runs, as an EPJ would
//! write it: one service ends, another stops for a while, and a third person gets a new
//! service — a `TjenesteSlutt`, a `MidlertidigStoppFra` and a `TjenesteStart` for the
//! register. The three are chosen among persons with one plain service, active on the first
//! day and mapped to a national code the daily flow reports, so that each change reaches the
//! register (a person with two overlapping services of one code is held back as a
//! duplicate).
//!
//! The extract is rewritten as `docs/export-format.md` asks: `READY` removed first, each
//! file replaced whole, `READY` written last.

use std::collections::BTreeMap;
use std::fs;
use std::io;
use std::path::Path;

use chrono::{Days, NaiveDate};

use crate::config::daily::Daily;
use crate::mapping::{Mapping, Resolution};
use crate::source::RecordKind;
use crate::source::extract::{READY, file_name};

/// The local type of the service the demo adds: meals delivered (code 5), which needs no
/// provider's organisation number.
const ADDED_TYPE: &str = "MATOMBR";

/// What was changed, by the EPJ's own ids (never an identity number or a name).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Change {
    pub ended_service: String,
    pub stopped_service: String,
    pub added_service: String,
    pub added_for: String,
}

impl Change {
    /// What was changed, in a line.
    pub fn text(&self, lang: crate::i18n::Language) -> String {
        crate::t!(
            lang,
            "demo-change",
            ended = self.ended_service.clone(),
            stopped = self.stopped_service.clone(),
            person = self.added_for.clone(),
            added = self.added_service.clone(),
            local_type = ADDED_TYPE
        )
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ChangeError {
    #[error("cannot change the extract in {}: {source}", dir.display())]
    Io {
        dir: std::path::PathBuf,
        source: io::Error,
    },
    #[error("the extract in {} is not as the demo wrote it: {why}", dir.display())]
    Unexpected {
        dir: std::path::PathBuf,
        why: String,
    },
}

/// A semicolon-separated file as the generator writes it (no quoting), by column name.
struct Table {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    fn read(file: &Path) -> Result<Table, String> {
        let text = fs::read_to_string(file).map_err(|e| format!("{}: {e}", file.display()))?;
        let mut lines = text.lines().filter(|l| !l.is_empty());
        let header: Vec<String> = lines
            .next()
            .ok_or_else(|| format!("{} is empty", file.display()))?
            .split(';')
            .map(str::to_string)
            .collect();
        let mut rows = Vec::new();
        for (i, line) in lines.enumerate() {
            let row: Vec<String> = line.split(';').map(str::to_string).collect();
            if row.len() != header.len() {
                return Err(format!(
                    "{} line {}: {} fields, not {}",
                    file.display(),
                    i + 2,
                    row.len(),
                    header.len()
                ));
            }
            rows.push(row);
        }
        Ok(Table { header, rows })
    }

    fn column(&self, name: &str) -> Result<usize, String> {
        self.header
            .iter()
            .position(|h| h == name)
            .ok_or_else(|| format!("no column {name}"))
    }

    fn text(&self) -> String {
        let mut text = self.header.join(";") + "\n";
        for row in &self.rows {
            text.push_str(&row.join(";"));
            text.push('\n');
        }
        text
    }
}

/// Changes the extract in `dir` for `day` (the second daily run's date; `day - 1` is the
/// first's): the service ends on `day`, the move and the new service take effect on it.
pub fn apply(
    dir: &Path,
    day: NaiveDate,
    mapping: &Mapping,
    scope: &Daily,
) -> Result<Change, ChangeError> {
    let unexpected = |why: String| ChangeError::Unexpected {
        dir: dir.to_path_buf(),
        why,
    };
    let persons_file = dir.join(file_name(RecordKind::Persons));
    let services_file = dir.join(file_name(RecordKind::Services));
    let persons = Table::read(&persons_file).map_err(unexpected)?;
    let mut services = Table::read(&services_file).map_err(unexpected)?;
    let (change, added_row) =
        choose(&persons, &mut services, day, mapping, scope).map_err(unexpected)?;
    services.rows.push(added_row);

    let io = |source| ChangeError::Io {
        dir: dir.to_path_buf(),
        source,
    };
    match fs::remove_file(dir.join(READY)) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(io(e)),
        _ => {}
    }
    let partial = services_file.with_extension("csv.partial");
    fs::write(&partial, services.text())
        .and_then(|()| fs::rename(&partial, &services_file))
        .map_err(io)?;
    fs::File::create(dir.join(READY))
        .and_then(|f| f.sync_all())
        .map_err(io)?;
    Ok(change)
}

/// Picks the three persons and changes their rows; returns the change and the new row.
fn choose(
    persons: &Table,
    services: &mut Table,
    day: NaiveDate,
    mapping: &Mapping,
    scope: &Daily,
) -> Result<(Change, Vec<String>), String> {
    let first_day = day - Days::new(1);
    let [
        service_id,
        person_id,
        local_type,
        decision,
        start,
        end,
        pause_from,
    ] = [
        "service_id",
        "person_id",
        "local_type",
        "decision",
        "start_date",
        "end_date",
        "pause_from",
    ]
    .map(|name| services.column(name));
    let (service_id, person_id, local_type, decision, start, end, pause_from) = (
        service_id?,
        person_id?,
        local_type?,
        decision?,
        start?,
        end?,
        pause_from?,
    );
    let mut rows_per_person: BTreeMap<&str, usize> = BTreeMap::new();
    for row in &services.rows {
        *rows_per_person.entry(row[person_id].as_str()).or_default() += 1;
    }
    // Rows of persons with one plain service that runs on both days and is reported.
    let plain: Vec<usize> = services
        .rows
        .iter()
        .enumerate()
        .filter(|(_, row)| {
            rows_per_person.get(row[person_id].as_str()) == Some(&1)
                && row[decision] == "granted"
                && row[end].is_empty()
                && row[pause_from].is_empty()
                && row[start]
                    .parse::<NaiveDate>()
                    .is_ok_and(|s| s <= first_day)
                && matches!(
                    mapping.resolve(&row[local_type], first_day),
                    Resolution::Service(code) if scope.in_scope(code.main())
                )
        })
        .map(|(i, _)| i)
        .collect();

    let p_id = persons.column("person_id")?;
    let known = |id: &str| persons.rows.iter().any(|p| p[p_id] == id);
    let mut chosen = plain
        .iter()
        .filter(|&&i| known(&services.rows[i][person_id]));
    let ended = *chosen.next().ok_or("no service to end")?;
    let stopped = *chosen.next().ok_or("no service to stop")?;
    let added_for = chosen
        .map(|&i| &services.rows[i])
        .find(|row| !row[local_type].eq_ignore_ascii_case(ADDED_TYPE))
        .map(|row| row[person_id].clone())
        .ok_or("no person to give a new service")?;
    services.rows[ended][end] = day.to_string();
    services.rows[stopped][pause_from] = day.to_string();

    let next_id = services
        .rows
        .iter()
        .filter_map(|row| row[service_id].parse::<u64>().ok())
        .max()
        .unwrap_or(0)
        + 1;
    let mut added = vec![String::new(); services.header.len()];
    added[service_id] = next_id.to_string();
    added[person_id] = added_for.clone();
    added[local_type] = ADDED_TYPE.to_string();
    added[decision] = "granted".to_string();
    added[services.column("decided_on")?] = day.to_string();
    added[start] = day.to_string();

    let change = Change {
        ended_service: services.rows[ended][service_id].clone(),
        stopped_service: services.rows[stopped][service_id].clone(),
        added_service: next_id.to_string(),
        added_for,
    };
    Ok((change, added))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::generate::{self, Options, OutputEncoding};
    use crate::source::{Snapshot, read_extract};

    #[test]
    fn the_change_is_made_as_an_epj_would_and_the_extract_still_reads_cleanly() {
        let dir = tempfile::tempdir().unwrap();
        let options = Options {
            persons: 200,
            seed: 3,
            year: 2025,
            municipality: "4601".into(),
            encoding: OutputEncoding::Utf8,
        };
        generate::generate(dir.path(), &options).unwrap();
        let mapping = Mapping::parse(SAMPLE, Path::new("sample-epj.toml")).unwrap();
        let day: NaiveDate = "2026-01-06".parse().unwrap();
        let scope = crate::config::daily::Daily {
            service_types: crate::config::daily::DEFAULT_SERVICE_TYPES.to_vec(),
            max_notifications: 10,
            msg_type: "KPR_KTT".into(),
            identity_key_file: dir.path().join("identity.key"),
        };
        let change = apply(dir.path(), day, &mapping, &scope).unwrap();

        let mut records = Snapshot::default();
        let summary = read_extract(dir.path(), &mut records).unwrap();
        assert_eq!(summary.problems.total(), 0);
        let service = |id: &str| {
            records
                .services
                .iter()
                .find(|s| s.service_id == id)
                .unwrap()
                .clone()
        };
        assert_eq!(service(&change.ended_service).end, Some(day));
        let added = service(&change.added_service);
        assert_eq!(
            (added.person_id.as_str(), added.start),
            (change.added_for.as_str(), Some(day))
        );
        let stopped = service(&change.stopped_service);
        assert_eq!(
            stopped.pauses.first().map(|p| (p.from, p.to)),
            Some((day, None))
        );
        assert!(dir.path().join(READY).exists());
    }

    const SAMPLE: &str = include_str!("../../mappings/sample-epj.toml");
}
