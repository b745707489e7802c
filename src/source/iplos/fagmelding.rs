//! The fagmelding (IPLOS 3.7) read person by person into the canonical records every other
//! source fills: PERSON and PERSONOPPL into [`Person`] and [`PersonAttribute`]s, FUNKSJON
//! into [`Assessment`]s, TJENESTE into [`Service`]s, DIAGNOSE into [`Diagnosis`]es.
//! DOGNTILBUD is not read: it repeats the round-the-clock services' TJENESTE, which is what
//! the records keep (and what `annual` writes DOGNTILBUD from again).
//!
//! A person's records are only kept once the PERSON has closed, so a person is whole or
//! absent. A value that cannot be read is a problem of its line and element, and counts as
//! empty; a record whose key cannot be read is skipped, as the register would drop it.

use std::collections::HashSet;

use chrono::{Datelike, NaiveDate};
use compact_str::{CompactString, format_compact};

use super::head::{FileHead, parse_compact_date};
use super::identities::{Identities, PersonNumber, parse_person_number};
use super::xml::{Node, XmlFile, XmlProblem};
use crate::model::assessment::AssessmentVariables;
use crate::model::{
    Assessment, AttributeKind, Decision, Diagnosis, DiagnosisSystem, Gender, HoursPerWeek,
    Household, Person, PersonAttribute, Service,
};
use crate::redact::shown_value;
use crate::source::Snapshot;
use crate::source::problem::{Problem, Problems};

/// The fields the records take; any other is passed over unkept.
const READ: [&str; 25] = [
    "peAlder",
    "peKjonn",
    "peKomnr",
    "peBydelsnr",
    "poHusstand",
    "poVurdTann",
    "poVurdLege",
    "poIndPlan",
    "poHarKoordinator",
    "poHab",
    "poHabDato",
    "fnFunkType",
    "fnFunkVerdi",
    "fnFraDato",
    "tjTjenType",
    "tjRullerende",
    "tjVedtak",
    "tjVedtDato",
    "tjFraDato",
    "tjTilDato",
    "tjTimerUke",
    "tjInstOrgnr",
    "diKodeVersjon",
    "diDiagKode",
    "diFraDato",
];

/// The end date the register reads as open.
const OPEN: &str = "99991231";

/// The records a PERSON holds.
const RECORDS: [&str; 5] = [
    "PERSONOPPL",
    "FUNKSJON",
    "TJENESTE",
    "DIAGNOSE",
    "DOGNTILBUD",
];

/// The local id of a TJENESTE without `tjVeID`: `pePeID/tjTjID`, a place in this one
/// extract. The daily flow replaces it by the person and the service's own facts
/// ([`fallback_service_id`]), since neither number means anything the next night.
pub fn is_placeholder_id(service_id: &str) -> bool {
    service_id.contains('/')
}

/// A service's identity across nights when the EPJ gives no `tjVeID`: the person (a token
/// that names nobody), the national code, the start date and the provider. A change of any
/// of them is a new service to the register: the old one annulled (C), the new one started
/// (N), instead of a TjenesteStart M or a TjenesteutforerEndret.
pub fn fallback_service_id(
    person: &str,
    code: &str,
    start: Option<NaiveDate>,
    orgnr: Option<&str>,
) -> String {
    let start = start.map(|d| d.to_string()).unwrap_or_default();
    format!("{person}:{code}:{start}:{}", orgnr.unwrap_or(""))
}

/// Reads the rest of a fagmelding whose head was read into `records`. `identities` is
/// `None` when no identmelding came with it: every person is then without identity.
/// `Err` when the file breaks off; `records` then holds what was read before.
pub fn read(
    file: &mut XmlFile,
    head: &FileHead,
    name: &str,
    mut identities: Option<&mut Identities>,
    problems: &mut Problems,
    records: &mut Snapshot,
) -> Result<(), XmlProblem> {
    let mut reader = PersonReader {
        name,
        year: head.period.1.year(),
        problems,
        seen: HashSet::new(),
        unknown_identity: 0,
    };
    let mut depth = 0usize;
    let mut person: Option<Draft> = None;
    let mut record: Option<Draft> = None;
    loop {
        match file.next_node()? {
            Node::Start { empty } => {
                match depth {
                    0 if file.name() == "PERSON" => {
                        person = Some(Draft::open(file, "pePeID"));
                    }
                    1 if person.is_some() && RECORDS.contains(&file.name()) => {
                        record = Some(Draft::open(file, key_of(file.name())));
                    }
                    _ => {}
                }
                if empty {
                    match depth {
                        0 => reader.finish_person(person.take(), &mut identities, records),
                        1 => {
                            if let (Some(p), Some(r)) = (person.as_mut(), record.take()) {
                                p.records.push(r);
                            }
                        }
                        _ => {}
                    }
                } else {
                    depth += 1;
                }
            }
            Node::End => {
                depth = depth.saturating_sub(1);
                let field = || {
                    let name = READ.iter().find(|n| **n == file.name())?;
                    Some((*name, file.text().to_string(), file.line()))
                };
                match depth {
                    0 => reader.finish_person(person.take(), &mut identities, records),
                    1 => match (person.as_mut(), record.take()) {
                        (Some(p), Some(r)) => p.records.push(r),
                        (Some(p), None) => p.fields.extend(field()),
                        _ => {}
                    },
                    2 => {
                        if let Some(r) = record.as_mut() {
                            r.fields.extend(field());
                        }
                    }
                    _ => {}
                }
            }
            Node::Eof => break,
        }
    }
    if let Some(identities) = identities
        && !identities.is_empty()
    {
        reader.problems.push(
            Problem::file(
                name,
                format!(
                    "has no PERSON for {} of the identmelding's PasientIdent pids",
                    identities.len()
                ),
                "the two files may be from different extracts; ask the EPJ to write the pair again",
            )
            .not_fatal(),
        );
    }
    if reader.unknown_identity > 0 {
        tracing::warn!(
            file = name,
            persons = reader.unknown_identity,
            "persons without identity in the IPLOS pair are held back"
        );
    }
    Ok(())
}

/// The attribute that keys a record: `poPoID`, `fnFnID`, `tjTjID`, `diDiID`, `dgDgID`.
fn key_of(record: &str) -> &'static str {
    match record {
        "PERSONOPPL" => "poPoID",
        "FUNKSJON" => "fnFnID",
        "TJENESTE" => "tjTjID",
        "DIAGNOSE" => "diDiID",
        _ => "dgDgID",
    }
}

/// A PERSON or one of its records as read: its key, its decision id (TJENESTE), its fields.
struct Draft {
    kind: String,
    line: u64,
    key: Option<String>,
    decision: Option<String>,
    decision_number: Option<String>,
    /// (element, text, line) of the fields in [`READ`].
    fields: Vec<(&'static str, String, u64)>,
    records: Vec<Draft>,
}

impl Draft {
    fn open(file: &XmlFile, key: &str) -> Draft {
        let own = |name: &str| file.attribute(name).map(str::to_string);
        Draft {
            kind: file.name().to_string(),
            line: file.line(),
            key: own(key),
            decision: own("tjVeID").filter(|v| !v.is_empty()),
            decision_number: own("tjVeNrID").filter(|v| !v.is_empty()),
            fields: Vec::new(),
            records: Vec::new(),
        }
    }

    fn field(&self, name: &str) -> Option<(&str, u64)> {
        self.fields
            .iter()
            .find(|(n, _, _)| *n == name)
            .map(|(_, v, line)| (v.as_str(), *line))
            .filter(|(v, _)| !v.is_empty())
    }
}

struct PersonReader<'a> {
    name: &'a str,
    /// The year the extract's period ends in: ages are on 31 December of it.
    year: i32,
    problems: &'a mut Problems,
    seen: HashSet<PersonNumber>,
    unknown_identity: u64,
}

impl PersonReader<'_> {
    fn report(&mut self, line: u64, element: &str, what: String, fix: &str) {
        self.problems
            .push(Problem::row(self.name, line, what, fix).in_column(element));
    }

    /// A date field, `YYYYMMDD`; `99991231` is open (`None`) where `open` allows it.
    fn date(&mut self, draft: &Draft, field: &str, open: bool) -> Option<NaiveDate> {
        let (text, line) = draft.field(field)?;
        if open && text == OPEN {
            return None;
        }
        let date = parse_compact_date(text);
        if date.is_none() {
            self.report(
                line,
                &format!("{}/{field}", draft.kind),
                format!("{} is not a date YYYYMMDD", shown_value(text)),
                "IPLOS 3.7 writes dates as YYYYMMDD, such as 20260301; the value counts as empty",
            );
        }
        date
    }

    /// A code field that must be one of `codes`; anything else is reported and empty.
    fn code<'d>(&mut self, draft: &'d Draft, field: &str, codes: &[&str]) -> Option<&'d str> {
        let (text, line) = draft.field(field)?;
        if codes.contains(&text) {
            return Some(text);
        }
        self.report(
            line,
            &format!("{}/{field}", draft.kind),
            format!("{} is not one of {}", shown_value(text), codes.join(", ")),
            "the value counts as empty",
        );
        None
    }

    fn finish_person(
        &mut self,
        draft: Option<Draft>,
        identities: &mut Option<&mut Identities>,
        records: &mut Snapshot,
    ) {
        let Some(draft) = draft else { return };
        let key = draft.key.as_deref().unwrap_or("");
        let Some(number) = parse_person_number(key) else {
            self.report(
                draft.line,
                "PERSON/@pePeID",
                format!(
                    "{} is not a person number (1 to 10 digits)",
                    shown_value(key)
                ),
                "the person was skipped, as the register would skip it",
            );
            return;
        };
        if !self.seen.insert(number) {
            self.report(
                draft.line,
                "PERSON/@pePeID",
                format!("{number} appears again"),
                "each person once; this PERSON was skipped",
            );
            return;
        }
        let ident = match identities {
            Some(identities) => {
                let ident = identities.take(number);
                if ident.is_none() {
                    self.unknown_identity += 1;
                    self.report(
                        draft.line,
                        "PERSON/@pePeID",
                        format!("{number} has no PasientIdent in the identmelding"),
                        "the person is held back until the pair names their identity",
                    );
                }
                ident
            }
            None => {
                self.unknown_identity += 1;
                None
            }
        };
        let person_id = number.to_string();
        let mut person = Person {
            person_id: person_id.as_str().into(),
            ident,
            name: None,
            birth_year: None,
            gender: None,
            municipality: None,
            district: None,
            household: None,
        };
        if let Some((age, line)) = draft.field("peAlder") {
            match age.parse::<i32>().ok().filter(|a| (0..=150).contains(a)) {
                Some(age) => person.birth_year = u16::try_from(self.year - age).ok(),
                None => self.report(
                    line,
                    "PERSON/peAlder",
                    format!("{} is not an age", shown_value(age)),
                    "the value counts as empty",
                ),
            }
        }
        person.gender = self
            .code(&draft, "peKjonn", &["M", "K"])
            .and_then(|g| g.parse::<Gender>().ok());
        person.municipality = self.digits(&draft, "peKomnr", 4).map(CompactString::from);
        let district = self.digits(&draft, "peBydelsnr", 2);
        person.district = match (&person.municipality, district) {
            (Some(municipality), Some(district)) if district != "00" => {
                Some(format_compact!("{municipality}{district}"))
            }
            _ => None,
        };
        for record in &draft.records {
            match record.kind.as_str() {
                "PERSONOPPL" => self.person_information(record, &mut person, records),
                "FUNKSJON" => {
                    if let Some(assessment) = self.assessment(record, &person_id) {
                        records.assessments.push(assessment);
                    }
                }
                "TJENESTE" => {
                    if let Some(service) = self.service(record, &person_id) {
                        records.services.push(service);
                    }
                }
                "DIAGNOSE" => {
                    if let Some(diagnosis) = self.diagnosis(record, &person_id) {
                        records.diagnoses.push(diagnosis);
                    }
                }
                _ => {}
            }
        }
        records.persons.push(person);
    }

    fn digits<'d>(&mut self, draft: &'d Draft, field: &str, len: usize) -> Option<&'d str> {
        let (text, line) = draft.field(field)?;
        if text.len() == len && text.bytes().all(|b| b.is_ascii_digit()) {
            return Some(text);
        }
        self.report(
            line,
            &format!("{}/{field}", draft.kind),
            format!("{} is not {len} digits", shown_value(text)),
            "the value counts as empty",
        );
        None
    }

    /// PERSONOPPL: the household, and the person attributes the records know.
    fn person_information(&mut self, draft: &Draft, person: &mut Person, records: &mut Snapshot) {
        if let Some(household) = self.code(draft, "poHusstand", &["1", "2"]) {
            person.household = household.parse::<Household>().ok();
        }
        let mut add = |kind, from| {
            records.attributes.push(PersonAttribute {
                person_id: person.person_id.clone(),
                kind,
                from,
                to: None,
            })
        };
        // Assessed by dental health personnel or a physician: the month, YYYYMM.
        for (field, kind) in [
            ("poVurdTann", AttributeKind::DentalAssessment),
            ("poVurdLege", AttributeKind::DoctorAssessment),
        ] {
            let Some((month, line)) = draft.field(field) else {
                continue;
            };
            let first = parse_compact_date(&format!("{month}01"));
            if first.is_none() {
                self.report(
                    line,
                    &format!("PERSONOPPL/{field}"),
                    format!("{} is not a month YYYYMM", shown_value(month)),
                    "the value counts as empty",
                );
                continue;
            }
            add(kind, first);
        }
        let yes = |field: &str| draft.field(field).is_some_and(|(v, _)| v == "1");
        if yes("poIndPlan") {
            add(AttributeKind::IndividualPlan, None);
        }
        if yes("poHarKoordinator") {
            add(AttributeKind::Coordinator, None);
        }
        if yes("poHab") {
            let from = self.date(draft, "poHabDato", false);
            add(AttributeKind::RehabOutsideInstitution, from);
        }
    }

    /// FUNKSJON: one scored variable, its 9111 code turned into the variable's name.
    fn assessment(&mut self, draft: &Draft, person_id: &str) -> Option<Assessment> {
        let (kind, _) = draft.field("fnFunkType")?;
        let variable = kind
            .parse::<u8>()
            .ok()
            .and_then(|code| {
                AssessmentVariables::builtin()
                    .all()
                    .iter()
                    .find(|v| v.iplos == Some(code))
            })
            .map_or_else(|| kind.into(), |v| v.code.as_str().into());
        let (score, line) = draft.field("fnFunkVerdi")?;
        let Ok(score) = score.parse::<u8>() else {
            self.report(
                line,
                "FUNKSJON/fnFunkVerdi",
                format!("{} is not a score", shown_value(score)),
                "write 1 to 5, or 9 for not relevant; the record was skipped",
            );
            return None;
        };
        Some(Assessment {
            person_id: person_id.into(),
            assessed_on: self.date(draft, "fnFraDato", false),
            variable,
            score,
        })
    }

    /// TJENESTE: the national code as the local type (8 with tjRullerende as 08.01 or
    /// 08.02), the decision (9171: 1 refused, 2 granted), dates, hours, provider.
    fn service(&mut self, draft: &Draft, person_id: &str) -> Option<Service> {
        let Some((code, _)) = draft.field("tjTjenType") else {
            self.report(
                draft.line,
                "TJENESTE/tjTjenType",
                "is missing".into(),
                "every TJENESTE needs its service type; the record was skipped",
            );
            return None;
        };
        let code = code.trim_start_matches('0');
        let local_type = match (code, draft.field("tjRullerende").map(|(v, _)| v)) {
            ("8", Some("1")) => "08.01".into(),
            ("8", Some("2")) => "08.02".into(),
            (code, _) => CompactString::from(code),
        };
        let decision = match draft.field("tjVedtak") {
            None | Some(("2", _)) => Decision::Granted,
            Some(("1", _)) => Decision::Refused,
            Some((other, line)) => {
                self.report(
                    line,
                    "TJENESTE/tjVedtak",
                    format!(
                        "{} is neither 1 (avslag) nor 2 (innvilget)",
                        shown_value(other)
                    ),
                    "the record was skipped",
                );
                return None;
            }
        };
        let service_id = match (&draft.decision, &draft.decision_number) {
            (Some(id), Some(number)) => format_compact!("{id}-{number}:{local_type}"),
            (Some(id), None) => format_compact!("{id}:{local_type}"),
            (None, _) => {
                format_compact!("{person_id}/{}", draft.key.as_deref().unwrap_or_default())
            }
        };
        let hours = match draft.field("tjTimerUke") {
            Some((text, line)) => match text.parse::<HoursPerWeek>() {
                Ok(hours) => Some(hours),
                Err(()) => {
                    self.report(
                        line,
                        "TJENESTE/tjTimerUke",
                        format!("{} is not hours per week", shown_value(text)),
                        "write hours such as 7.50; the value counts as empty",
                    );
                    None
                }
            },
            None => None,
        };
        Some(Service {
            service_id,
            person_id: person_id.into(),
            local_type,
            decision,
            decided_on: self.date(draft, "tjVedtDato", false),
            start: self.date(draft, "tjFraDato", false),
            end: self.date(draft, "tjTilDato", true),
            hours_per_week: hours,
            provider_orgnr: draft
                .field("tjInstOrgnr")
                .map(|(o, _)| o.chars().filter(|&c| c != ' ').collect()),
            pauses: Vec::new(),
        })
    }

    /// DIAGNOSE: the code set from `diKodeVersjon` (ICPC-2, ICD-10).
    fn diagnosis(&mut self, draft: &Draft, person_id: &str) -> Option<Diagnosis> {
        let (version, line) = draft.field("diKodeVersjon")?;
        let Ok(system) = version.parse::<DiagnosisSystem>() else {
            self.report(
                line,
                "DIAGNOSE/diKodeVersjon",
                format!(
                    "{} is not a code set this format knows",
                    shown_value(version)
                ),
                "write ICPC-2 or ICD-10; the record was skipped",
            );
            return None;
        };
        let (code, _) = draft.field("diDiagKode")?;
        Some(Diagnosis {
            person_id: person_id.into(),
            system,
            code: code.into(),
            registered_on: self.date(draft, "diFraDato", false),
        })
    }
}
