//! Canonical records from the rows of any origin: the files of an extract or the queries of a
//! database ([`Tables`]). One parser for both, so the same data gives the same records.
//!
//! Rows stream through a [`RecordSink`]: no table is ever held in memory, only the set of
//! local ids needed to find duplicates and services that point at unknown persons.
//! A problem in one table never stops the other tables from being read.

use foldhash::{HashMap, HashSet, HashSetExt};

use super::assessments::Assessments;
use super::fields::Fields;
use super::problem::{Problem, Problems};
use super::table::Table;
use super::table::TextEncoding;
use crate::model::{
    Assessment, AttributeKind, Decision, Diagnosis, DiagnosisSystem, Gender, HoursPerWeek,
    Household, Ident, Pause, Person, PersonAttribute, PersonName, Service,
};
use crate::redact::shown_value;

/// The five kinds of record, in the order they are read: persons first, so that every other
/// row can be checked against them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RecordKind {
    Persons,
    Services,
    Assessments,
    Diagnoses,
    Attributes,
}

impl RecordKind {
    pub const ALL: [RecordKind; 5] = [
        RecordKind::Persons,
        RecordKind::Services,
        RecordKind::Assessments,
        RecordKind::Diagnoses,
        RecordKind::Attributes,
    ];

    /// `persons`: the query's key in the configuration, and the file's stem.
    pub fn as_str(self) -> &'static str {
        match self {
            RecordKind::Persons => "persons",
            RecordKind::Services => "services",
            RecordKind::Assessments => "assessments",
            RecordKind::Diagnoses => "diagnoses",
            RecordKind::Attributes => "attributes",
        }
    }

    /// The columns a reader asks for, in the order of the `col` indexes.
    pub fn columns(self) -> &'static [&'static str] {
        match self {
            RecordKind::Persons => &col::PERSON,
            RecordKind::Services => &col::SERVICE,
            RecordKind::Assessments => &col::ASSESSMENT,
            RecordKind::Diagnoses => &col::DIAGNOSIS,
            RecordKind::Attributes => &col::ATTRIBUTE,
        }
    }

    /// The columns without which no row of this kind can be used.
    pub fn required(self) -> &'static [&'static str] {
        match self {
            RecordKind::Persons => &["person_id", "ident"],
            RecordKind::Services => &["service_id", "person_id", "local_type", "decision"],
            RecordKind::Assessments => &["person_id", "variable", "score"],
            RecordKind::Diagnoses => &["person_id", "system", "code"],
            RecordKind::Attributes => &["person_id", "kind"],
        }
    }

    /// Persons and services are needed; the other kinds may be absent.
    pub fn is_required(self) -> bool {
        matches!(self, RecordKind::Persons | RecordKind::Services)
    }
}

/// Where rows come from: opens each kind of record for reading.
pub trait Tables {
    /// The rows of `kind`; `None` when the origin has none or they cannot be read, with the
    /// reason reported to `problems` (an absent optional kind is not a problem).
    fn open(&mut self, kind: RecordKind, problems: &mut Problems) -> Option<Table>;
}

/// Receives records as they are read.
pub trait RecordSink {
    fn person(&mut self, person: Person);
    fn service(&mut self, service: Service);
    fn assessment(&mut self, assessment: Assessment);
    fn diagnosis(&mut self, diagnosis: Diagnosis);
    fn attribute(&mut self, attribute: PersonAttribute);
}

/// Every record of an extract in memory: for tests and small extracts.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Snapshot {
    pub persons: Vec<Person>,
    pub services: Vec<Service>,
    pub assessments: Assessments,
    pub diagnoses: Vec<Diagnosis>,
    pub attributes: Vec<PersonAttribute>,
}

impl RecordSink for Snapshot {
    fn person(&mut self, person: Person) {
        self.persons.push(person);
    }
    fn service(&mut self, service: Service) {
        self.services.push(service);
    }
    fn assessment(&mut self, assessment: Assessment) {
        self.assessments.push(assessment);
    }
    fn diagnosis(&mut self, diagnosis: Diagnosis) {
        self.diagnoses.push(diagnosis);
    }
    fn attribute(&mut self, attribute: PersonAttribute) {
        self.attributes.push(attribute);
    }
}

/// What was read of one kind of record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TableSummary {
    pub kind: RecordKind,
    /// The file or query as problems name it; `None` when absent or unusable.
    pub name: Option<String>,
    /// For an extract file, the encoding it was read in.
    pub encoding: Option<TextEncoding>,
    /// Records handed to the sink.
    pub records: u64,
}

#[derive(Debug)]
pub struct ReadSummary {
    pub tables: Vec<TableSummary>,
    pub problems: Problems,
}

impl ReadSummary {
    /// Some table could not be read at all: the source is not usable as a whole.
    pub fn unusable(&self) -> bool {
        self.problems.any_fatal()
    }

    /// Records of `kind` handed to the sink.
    pub fn records(&self, kind: RecordKind) -> u64 {
        self.tables
            .iter()
            .find(|t| t.kind == kind)
            .map_or(0, |t| t.records)
    }
}

/// Reads every kind of record from `tables` into `sink`.
pub fn read_records(tables: &mut impl Tables, sink: &mut impl RecordSink) -> ReadSummary {
    let mut reader = RecordReader {
        problems: Problems::default(),
        known_persons: None,
        persons_name: String::new(),
        last_known: 0,
    };
    let tables = RecordKind::ALL
        .into_iter()
        .map(|kind| {
            let mut table = tables.open(kind, &mut reader.problems);
            let records = match table.as_mut() {
                None => 0,
                Some(table) => match kind {
                    RecordKind::Persons => reader.read_persons(table, sink),
                    RecordKind::Services => reader.read_services(table, sink),
                    RecordKind::Assessments => {
                        reader.read_person_facts(table, kind, parse_assessment, |a| {
                            sink.assessment(a)
                        })
                    }
                    RecordKind::Diagnoses => {
                        reader
                            .read_person_facts(table, kind, parse_diagnosis, |d| sink.diagnosis(d))
                    }
                    RecordKind::Attributes => {
                        reader
                            .read_person_facts(table, kind, parse_attribute, |a| sink.attribute(a))
                    }
                },
            };
            TableSummary {
                kind,
                name: table.as_ref().map(|t| t.place.name.clone()),
                encoding: table.as_ref().and_then(|t| t.encoding),
                records,
            }
        })
        .collect();
    ReadSummary {
        tables,
        problems: reader.problems,
    }
}

struct RecordReader {
    problems: Problems,
    /// `None` when the persons were unusable, so that references cannot be judged.
    known_persons: Option<KnownPersons>,
    /// `persons.csv`, or the persons query, for messages.
    persons_name: String,
    /// The place of the last person id found known: rows of one person come together in
    /// real exports, mostly in the order of persons.csv, so looking there and just after it
    /// spares most lookups in a large set.
    last_known: usize,
}

/// The local person ids of the persons read.
#[derive(Default)]
struct KnownPersons {
    /// Each id's place in file order, and the line it was read on.
    places: HashMap<Box<str>, (usize, u64)>,
    /// The ids in file order, end to end, and where each ends: close together in memory,
    /// so that the next person's id is checked without the cache misses of a lookup.
    in_order: String,
    ends: Vec<usize>,
}

impl KnownPersons {
    fn add(&mut self, id: &str, line: u64) {
        self.places.insert(id.into(), (self.ends.len(), line));
        self.in_order.push_str(id);
        self.ends.push(self.in_order.len());
    }

    fn line(&self, id: &str) -> Option<u64> {
        self.places.get(id).map(|&(_, line)| line)
    }

    fn place(&self, id: &str) -> Option<usize> {
        self.places.get(id).map(|&(place, _)| place)
    }

    fn id_at(&self, place: usize) -> Option<&str> {
        let end = *self.ends.get(place)?;
        let start = place.checked_sub(1).map_or(0, |before| self.ends[before]);
        Some(&self.in_order[start..end])
    }
}

/// Column indexes, named after the format's columns, which the arrays list in this order.
mod col {
    pub const PERSON: [&str; 8] = [
        "person_id",
        "ident",
        "name",
        "birth_year",
        "gender",
        "municipality",
        "district",
        "household",
    ];
    pub const SERVICE: [&str; 11] = [
        "service_id",
        "person_id",
        "local_type",
        "decision",
        "decided_on",
        "start_date",
        "end_date",
        "hours_per_week",
        "provider_orgnr",
        "pause_from",
        "pause_to",
    ];
    pub const ASSESSMENT: [&str; 4] = ["person_id", "assessed_on", "variable", "score"];
    pub const DIAGNOSIS: [&str; 4] = ["person_id", "system", "code", "registered_on"];
    pub const ATTRIBUTE: [&str; 4] = ["person_id", "kind", "from_date", "to_date"];

    // Shared by every file whose first column is the person.
    pub const PERSON_ID: usize = 0;
    // persons.csv
    pub const IDENT: usize = 1;
    pub const NAME: usize = 2;
    pub const BIRTH_YEAR: usize = 3;
    pub const GENDER: usize = 4;
    pub const MUNICIPALITY: usize = 5;
    pub const DISTRICT: usize = 6;
    pub const HOUSEHOLD: usize = 7;
    // services.csv
    pub const SERVICE_ID: usize = 0;
    pub const SERVICE_PERSON: usize = 1;
    pub const LOCAL_TYPE: usize = 2;
    pub const DECISION: usize = 3;
    pub const DECIDED_ON: usize = 4;
    pub const START_DATE: usize = 5;
    pub const END_DATE: usize = 6;
    pub const HOURS: usize = 7;
    pub const ORGNR: usize = 8;
    pub const PAUSE_FROM: usize = 9;
    pub const PAUSE_TO: usize = 10;
    // assessments.csv, diagnoses.csv, attributes.csv
    pub const SECOND: usize = 1;
    pub const THIRD: usize = 2;
    pub const FOURTH: usize = 3;
}

impl RecordReader {
    fn read_persons(&mut self, table: &mut Table, sink: &mut impl RecordSink) -> u64 {
        let place = table.place.clone();
        let mut records = 0;
        let mut known = KnownPersons::default();
        while let Some(row) = table.next_row(&mut self.problems) {
            let mut f = Fields::new(&row, &place, &col::PERSON, &mut self.problems);
            let Some(person) = parse_person(&mut f) else {
                continue;
            };
            if let Some(first) = known.line(&person.person_id) {
                let unit = if place.query { "row" } else { "line" };
                f.report(
                    col::PERSON_ID,
                    format!(
                        "{} appears again (first on {unit} {first})",
                        shown_value(&person.person_id)
                    ),
                    "each person once; this row was skipped",
                );
                continue;
            }
            known.add(&person.person_id, row.line);
            sink.person(person);
            records += 1;
        }
        if records == 0 && !self.problems.any_fatal() {
            self.problems.push(Problem::file(
                &place.name,
                "has no persons",
                "a source without persons reports nothing; check the export or the query",
            ));
        }
        self.known_persons = Some(known);
        self.persons_name = place.name;
        records
    }

    /// Whether `person_id` is known; reports the row otherwise.
    fn person_known(&mut self, f: &mut Fields, column: usize, person_id: &str) -> bool {
        let Some(known) = &self.known_persons else {
            return true;
        };
        // An empty id is reported by the record's own parser.
        if person_id.is_empty() {
            return true;
        }
        let place = [self.last_known, self.last_known + 1]
            .into_iter()
            .find(|&place| known.id_at(place) == Some(person_id))
            .or_else(|| known.place(person_id));
        if let Some(place) = place {
            self.last_known = place;
            return true;
        }
        f.report(
            column,
            format!("{} is not in {}", shown_value(person_id), self.persons_name),
            "export the person too, or remove the row; the row was skipped",
        );
        false
    }

    fn read_services(&mut self, table: &mut Table, sink: &mut impl RecordSink) -> u64 {
        let place = table.place.clone();
        let mut records = 0;
        let mut problems = std::mem::take(&mut self.problems);
        // Consecutive rows with one service_id are one service with several pauses.
        let mut pending: Option<Service> = None;
        let mut seen: HashSet<Box<str>> = HashSet::new();
        while let Some(row) = table.next_row(&mut problems) {
            let mut f = Fields::new(&row, &place, &col::SERVICE, &mut problems);
            let Some((service, pause)) = parse_service(&mut f) else {
                continue;
            };
            if let Some(open) = pending
                .as_mut()
                .filter(|p| p.service_id == service.service_id)
            {
                if same_apart_from_pauses(open, &service) && pause.is_some() {
                    open.pauses.extend(pause);
                } else {
                    f.report(
                        col::SERVICE_ID,
                        format!("{} repeats the row above with other values", shown_value(&service.service_id)),
                        "repeat a service only to list more pauses, with all other columns equal; the row was skipped",
                    );
                }
                continue;
            }
            if !seen.insert(service.service_id.as_str().into()) {
                f.report(
                    col::SERVICE_ID,
                    format!("{} appeared earlier", shown_value(&service.service_id)),
                    "each service once, or its pause rows right after each other (ORDER BY service_id in a query); the row was skipped",
                );
                continue;
            }
            if !self.person_known(&mut f, col::SERVICE_PERSON, &service.person_id) {
                continue;
            }
            let mut service = service;
            service.pauses.extend(pause);
            if let Some(done) = pending.replace(service) {
                sink.service(done);
                records += 1;
            }
        }
        if let Some(done) = pending {
            sink.service(done);
            records += 1;
        }
        self.problems = problems;
        records
    }

    /// The three small per-person kinds share one loop; `parse` turns a row into a record.
    fn read_person_facts<T>(
        &mut self,
        table: &mut Table,
        kind: RecordKind,
        parse: impl Fn(&mut Fields) -> Option<T>,
        mut deliver: impl FnMut(T),
    ) -> u64 {
        let place = table.place.clone();
        let columns = kind.columns();
        let mut records = 0;
        let mut problems = std::mem::take(&mut self.problems);
        while let Some(row) = table.next_row(&mut problems) {
            let mut f = Fields::new(&row, &place, columns, &mut problems);
            let Some(record) = parse(&mut f) else {
                continue;
            };
            if self.person_known(&mut f, col::PERSON_ID, row.get(col::PERSON_ID)) {
                deliver(record);
                records += 1;
            }
        }
        self.problems = problems;
        records
    }
}

fn parse_person(f: &mut Fields) -> Option<Person> {
    let person_id = f.key(col::PERSON_ID)?;
    let municipality = f.text(col::MUNICIPALITY);
    let municipality = match municipality {
        Some(m) if !is_digits(&m, 4) => {
            let hint = if is_digits(&m, 3) {
                format!("; did a spreadsheet drop the leading zero (0{m})?")
            } else {
                String::new()
            };
            f.report(
                col::MUNICIPALITY,
                format!(
                    "{} is not a four-digit municipality number{hint}",
                    shown_value(&m)
                ),
                "write all four digits, such as 0301",
            );
            None
        }
        other => other,
    };
    let district = match f.text(col::DISTRICT) {
        Some(d) if !is_digits(&d, 6) => {
            f.report(
                col::DISTRICT,
                format!(
                    "{} is not a six-digit city district number",
                    shown_value(&d)
                ),
                "write all six digits, such as 030101",
            );
            None
        }
        other => other,
    };
    Some(Person {
        person_id,
        ident: f.text(col::IDENT).map(Ident::new),
        name: f.text(col::NAME).map(PersonName::new),
        birth_year: f.parsed::<u16>(col::BIRTH_YEAR, "a year such as 1942"),
        gender: f.parsed::<Gender>(col::GENDER, "M or K (or 1 or 2)"),
        municipality,
        district,
        household: f.parsed::<Household>(col::HOUSEHOLD, "alone or with_others (or 1 or 2)"),
    })
}

/// A service and the pause its row names, if any.
fn parse_service(f: &mut Fields) -> Option<(Service, Option<Pause>)> {
    let service_id = f.key(col::SERVICE_ID)?;
    let person_id = f.key(col::SERVICE_PERSON)?;
    let local_type = f.key(col::LOCAL_TYPE)?;
    let decision = f.required(col::DECISION)?;
    let Ok(decision) = decision.parse::<Decision>() else {
        f.report(
            col::DECISION,
            format!("{} is neither granted nor refused", shown_value(decision)),
            "write granted or refused; the row was skipped",
        );
        return None;
    };
    let pause_from = f.date(col::PAUSE_FROM);
    let pause_to = f.date(col::PAUSE_TO);
    let pause = match (pause_from, pause_to) {
        (Some(from), to) => Some(Pause { from, to }),
        (None, Some(_)) if f.row.get(col::PAUSE_FROM).is_empty() => {
            f.report(
                col::PAUSE_TO,
                "has a value but pause_from is empty",
                "give the first day of the pause too",
            );
            None
        }
        _ => None,
    };
    let service = Service {
        service_id,
        person_id,
        local_type,
        decision,
        decided_on: f.date(col::DECIDED_ON),
        start: f.date(col::START_DATE),
        end: f.date(col::END_DATE),
        hours_per_week: f.parsed::<HoursPerWeek>(col::HOURS, "hours per week such as 7.5"),
        provider_orgnr: f
            .text(col::ORGNR)
            .map(|o| o.chars().filter(|&c| c != ' ').collect()),
        pauses: Vec::new(),
    };
    Some((service, pause))
}

fn same_apart_from_pauses(a: &Service, b: &Service) -> bool {
    Service {
        pauses: Vec::new(),
        ..a.clone()
    } == Service {
        pauses: Vec::new(),
        ..b.clone()
    }
}

fn parse_assessment(f: &mut Fields) -> Option<Assessment> {
    let person_id = f.key(col::PERSON_ID)?;
    let assessed_on = f.date(col::SECOND);
    let variable = f.key(col::THIRD)?;
    let score = f.required(col::FOURTH)?;
    let Ok(score) = score.parse::<u8>() else {
        f.report(
            col::FOURTH,
            format!("{} is not a score", shown_value(score)),
            "write 1 to 5, or 9 for not relevant; the row was skipped",
        );
        return None;
    };
    Some(Assessment {
        person_id,
        assessed_on,
        variable,
        score,
    })
}

fn parse_diagnosis(f: &mut Fields) -> Option<Diagnosis> {
    let person_id = f.key(col::PERSON_ID)?;
    let system = f.required(col::SECOND)?;
    let Ok(system) = system.parse::<DiagnosisSystem>() else {
        f.report(
            col::SECOND,
            format!(
                "{} is not a code system this format knows",
                shown_value(system)
            ),
            "write ICPC2 or ICD10; the row was skipped",
        );
        return None;
    };
    let code = f.key(col::THIRD)?;
    Some(Diagnosis {
        person_id,
        system,
        code,
        registered_on: f.date(col::FOURTH),
    })
}

fn parse_attribute(f: &mut Fields) -> Option<PersonAttribute> {
    let person_id = f.key(col::PERSON_ID)?;
    let kind = f.required(col::SECOND)?;
    let Ok(kind) = kind.parse::<AttributeKind>() else {
        let known: Vec<&str> = AttributeKind::ALL.iter().map(|k| k.as_str()).collect();
        f.report(
            col::SECOND,
            format!("{} is not an attribute kind", shown_value(kind)),
            format!("write one of {}; the row was skipped", known.join(", ")),
        );
        return None;
    };
    Some(PersonAttribute {
        person_id,
        kind,
        from: f.date(col::THIRD),
        to: f.date(col::FOURTH),
    })
}

fn is_digits(value: &str, len: usize) -> bool {
    value.len() == len && value.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::col;

    #[test]
    fn column_indexes_match_their_names() {
        let named = [
            (col::PERSON[col::IDENT], "ident"),
            (col::PERSON[col::NAME], "name"),
            (col::PERSON[col::BIRTH_YEAR], "birth_year"),
            (col::PERSON[col::GENDER], "gender"),
            (col::PERSON[col::MUNICIPALITY], "municipality"),
            (col::PERSON[col::DISTRICT], "district"),
            (col::PERSON[col::HOUSEHOLD], "household"),
            (col::SERVICE[col::SERVICE_ID], "service_id"),
            (col::SERVICE[col::SERVICE_PERSON], "person_id"),
            (col::SERVICE[col::LOCAL_TYPE], "local_type"),
            (col::SERVICE[col::DECISION], "decision"),
            (col::SERVICE[col::DECIDED_ON], "decided_on"),
            (col::SERVICE[col::START_DATE], "start_date"),
            (col::SERVICE[col::END_DATE], "end_date"),
            (col::SERVICE[col::HOURS], "hours_per_week"),
            (col::SERVICE[col::ORGNR], "provider_orgnr"),
            (col::SERVICE[col::PAUSE_FROM], "pause_from"),
            (col::SERVICE[col::PAUSE_TO], "pause_to"),
        ];
        for (actual, expected) in named {
            assert_eq!(actual, expected);
        }
        for columns in [col::ASSESSMENT, col::DIAGNOSIS, col::ATTRIBUTE] {
            assert_eq!(columns[col::PERSON_ID], "person_id");
        }
    }
}
