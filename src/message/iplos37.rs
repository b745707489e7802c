//! The annual fagmelding `KPR_IPL` in the register's format, IPLOS 3.7 (`iplos_2019.xsd`,
//! built in under `schemas/official/iplos37/`): INNHINFO, then one PERSON per person, keyed by
//! a number local to the message (`pePeID`) that the identity message `KPR_IDE` ([`super::ident`])
//! pairs with the identity number. No identity number or name is ever written here.
//!
//! IPLOS's namespace follows the reporting year (`iplos/2018` for 2018 data, `iplos/2019` for
//! 2019): [`namespace`] writes `iplos/<year>`, and the built-in schema is the 3.7 structure
//! under the 2025 namespace ([`BUILT_IN_YEAR`]); a configured official XSD replaces it, and its
//! target namespace decides. Every choice where the published material is unsure (a code's
//! meaning, which services are round-the-clock stays) is made in this file and written down
//! in `docs/iplos37.md`.
//!
//! [`IplWriter`] streams: a person is written as it comes and nothing of it is kept.
//! [`read_ipl`] reads a document back (ours, or the register's example) for the tests and
//! the local test receiver; whether it is valid is the schema's to say.

use std::fmt::Display;
use std::io::{self, Write};

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Europe::Oslo;
use quick_xml::NsReader;
use quick_xml::escape::escape;
use quick_xml::events::Event;
use quick_xml::name::ResolveResult;
use thiserror::Error;
use uuid::Uuid;

use super::guard;
use crate::model::annual::{AnnualPerson, AnnualService};
use crate::model::assessment::AssessmentVariables;
use crate::model::register::Contact;
use crate::model::{AttributeKind, Decision, DiagnosisSystem, Gender, Household, year_bounds};
use crate::redact::hide_identity_numbers;

/// The fagmelding's message type (MsgInfo/Type).
pub const FAGMELDING: &str = "KPR_IPL";
/// The identity message's message type.
pub const IDENTMELDING: &str = "KPR_IDE";
/// `IPLOS/@versjon`.
pub const VERSION: &str = "3.7";
/// The reporting year of the built-in schema's namespace: the last annual message.
pub const BUILT_IN_YEAR: i32 = 2025;
/// The namespace of the published schema, which the built-in one replaces.
pub const PUBLISHED_NAMESPACE: &str = "http://www.npr.no/xmlstds/iplos/2019";
/// `iiSysID`: the producing system (at most 15 characters).
pub const SYSTEM_ID: &str = "kpr-bridge";
/// An open end date, which the register's date check lets through.
const OPEN: &str = "99991231";

/// The namespace of IPLOS data for `year`.
pub fn namespace(year: i32) -> String {
    format!("http://www.npr.no/xmlstds/iplos/{year}")
}

/// Service types whose grant is also a round-the-clock stay (DOGNTILBUD): respite in
/// institution (8), the time-limited stays (18, 19, 20), long-term stay (21) and the municipal
/// emergency bed (25). Day (17) and night (22) stays are not round the clock.
pub const ROUND_THE_CLOCK: [u8; 6] = [8, 18, 19, 20, 21, 25];

/// The head of both messages.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Header {
    /// Ours: names the files and links the two messages in the state store.
    pub shipment: Uuid,
    /// Four digits, valid in the reporting year.
    pub municipality: String,
    /// `iiBydelsnr`: two digits, `00` when the message covers the whole municipality.
    pub district: String,
    /// The reporting unit in `KPR_IDE` (`institusjonID`): the municipality's organisation
    /// number, or its number when none is configured.
    pub institution: String,
    pub year: i32,
    pub generated: DateTime<Utc>,
    /// `iiLopenr` / `lopenr`: this message's number among those sent for the year.
    pub running_number: u32,
    /// Product and version (empty when unknown) of each EPJ the year's data comes from.
    pub epj: Vec<(String, String)>,
    /// The IPLOS contact (16) and submitter (17), and whoever else is configured.
    pub contacts: Vec<Contact>,
    /// The namespace written; [`namespace`] of the year unless a configured schema says.
    pub namespace: String,
}

/// Writes a fagmelding person by person.
pub struct IplWriter<W: Write> {
    out: W,
    /// First and last day of the year, `YYYYMMDD`.
    period: (String, String),
    variables: AssessmentVariables,
}

impl<W: Write> IplWriter<W> {
    /// Writes the declaration, the root and INNHINFO. `variables` gives each assessment
    /// variable its code (9111).
    pub fn start(
        mut out: W,
        header: &Header,
        variables: AssessmentVariables,
    ) -> io::Result<IplWriter<W>> {
        let (first, last) = year_bounds(header.year);
        let period = (date(first), date(last));
        writeln!(out, r#"<?xml version="1.0" encoding="UTF-8"?>"#)?;
        writeln!(
            out,
            r#"<IPLOS xmlns="{}" versjon="{VERSION}">"#,
            escape(&header.namespace)
        )?;
        writeln!(out, " <INNHINFO>")?;
        element(&mut out, 2, "iiInnhType", "P")?;
        text(&mut out, 2, "iiKomnr", &header.municipality)?;
        text(&mut out, 2, "iiBydelsnr", &header.district)?;
        for contact in &header.contacts {
            writeln!(out, "  <iiKontakt>")?;
            // Code system 9341 is published nowhere: the role is given in 8471's codes.
            element(&mut out, 3, "Type", contact.kind)?;
            text(&mut out, 3, "Navn", &contact.name)?;
            text(
                &mut out,
                3,
                "Telefon",
                contact.phone.as_deref().unwrap_or(""),
            )?;
            text(&mut out, 3, "Epost", &contact.email)?;
            writeln!(out, "  </iiKontakt>")?;
        }
        element(&mut out, 2, "iiFraDato", &period.0)?;
        element(&mut out, 2, "iiTilDato", &period.1)?;
        let made = header.generated.with_timezone(&Oslo).date_naive();
        element(&mut out, 2, "iiLagetDato", date(made))?;
        element(&mut out, 2, "iiSysID", SYSTEM_ID)?;
        let version: String = env!("CARGO_PKG_VERSION").chars().take(15).collect();
        element(&mut out, 2, "iiSysVersjon", version)?;
        element(&mut out, 2, "iiLopenr", header.running_number)?;
        writeln!(out, " </INNHINFO>")?;
        Ok(IplWriter {
            out,
            period,
            variables,
        })
    }

    pub fn person(&mut self, person: &AnnualPerson, year: i32) -> io::Result<()> {
        let id = person.serial;
        let out = &mut self.out;
        writeln!(out, r#" <PERSON pePeID="{id}">"#)?;
        // Age on 31 December of the reporting year, from the year of birth.
        if let Some(born) = person.birth_year {
            element(out, 2, "peAlder", year - i32::from(born))?;
        }
        if let Some(gender) = person.gender {
            element(out, 2, "peKjonn", gender_code(gender))?;
        }
        if let Some(municipality) = &person.municipality {
            text(out, 2, "peKomnr", municipality)?;
            let district = person.district.as_deref().map_or("00", district_code);
            text(out, 2, "peBydelsnr", district)?;
        }
        self.person_information(person)?;
        let out = &mut self.out;
        if let Some(assessment) = &person.assessment {
            let from = assessment.assessed_on.map_or(self.period.0.clone(), date);
            let mut n = 0;
            for (variable, score) in &assessment.scores {
                let Some(code) = self.variables.find(variable).and_then(|v| v.iplos) else {
                    continue;
                };
                n += 1;
                writeln!(out, r#"  <FUNKSJON fnPeID="{id}" fnFnID="{n}">"#)?;
                element(out, 3, "fnFunkType", code)?;
                element(out, 3, "fnFunkVerdi", score)?;
                element(out, 3, "fnFraDato", &from)?;
                element(out, 3, "fnTilDato", OPEN)?;
                writeln!(out, "  </FUNKSJON>")?;
            }
        }
        for (n, service) in person.services.iter().enumerate() {
            service_element(out, id, n + 1, service)?;
        }
        for (n, (system, code)) in person.diagnoses.iter().enumerate() {
            writeln!(out, r#"  <DIAGNOSE diPeID="{id}" diDiID="{}">"#, n + 1)?;
            element(out, 3, "diKodeVersjon", code_version(*system))?;
            text(out, 3, "diDiagKode", code)?;
            element(out, 3, "diFraDato", &self.period.0)?;
            element(out, 3, "diTilDato", OPEN)?;
            writeln!(out, "  </DIAGNOSE>")?;
        }
        let stays = person.services.iter().filter(|s| {
            s.decision == Decision::Granted && ROUND_THE_CLOCK.contains(&s.code.main())
        });
        for (n, stay) in stays.enumerate() {
            writeln!(out, r#"  <DOGNTILBUD dgPeID="{id}" dgDgID="{}">"#, n + 1)?;
            optional_text(out, 3, "dgInstOrgnr", stay.orgnr.as_deref())?;
            optional(out, 3, "dgFraDato", stay.start.map(date))?;
            optional(out, 3, "dgTilDato", stay.end.map(date))?;
            writeln!(out, "  </DOGNTILBUD>")?;
        }
        writeln!(out, " </PERSON>")
    }

    /// PERSONOPPL: household and the person attributes, one record when there is any.
    fn person_information(&mut self, person: &AnnualPerson) -> io::Result<()> {
        let attribute = |kind: AttributeKind| person.attributes.iter().find(|a| a.kind == kind);
        if person.household.is_none() && person.attributes.is_empty() {
            return Ok(());
        }
        let out = &mut self.out;
        writeln!(
            out,
            r#"  <PERSONOPPL poPeID="{}" poPoID="1">"#,
            person.serial
        )?;
        optional(out, 3, "poHusstand", person.household.map(household_code))?;
        // Assessed by dental health personnel or a physician: the month, YYYYMM.
        let month = |kind| {
            attribute(kind)
                .and_then(|a| a.from)
                .map(|d| d.format("%Y%m"))
        };
        optional(out, 3, "poVurdTann", month(AttributeKind::DentalAssessment))?;
        optional(out, 3, "poVurdLege", month(AttributeKind::DoctorAssessment))?;
        // 9336: 1 = an individual plan in effect.
        optional(
            out,
            3,
            "poIndPlan",
            attribute(AttributeKind::IndividualPlan).map(|_| 1),
        )?;
        // 9188 as the register's one-character check allows: 1 = a coordinator appointed.
        optional(
            out,
            3,
            "poHarKoordinator",
            attribute(AttributeKind::Coordinator).map(|_| 1),
        )?;
        let rehab = attribute(AttributeKind::RehabOutsideInstitution);
        optional(out, 3, "poHab", rehab.map(|_| 1))?;
        optional(out, 3, "poHabDato", rehab.and_then(|a| a.from).map(date))?;
        writeln!(out, "  </PERSONOPPL>")
    }

    /// Closes the root and flushes; gives the writer back.
    pub fn finish(mut self) -> io::Result<W> {
        writeln!(self.out, "</IPLOS>")?;
        self.out.flush()?;
        Ok(self.out)
    }
}

/// One TJENESTE: a grant or a refusal (9171: 2 granted, 1 refused).
fn service_element(
    out: &mut impl Write,
    person: u32,
    n: usize,
    service: &AnnualService,
) -> io::Result<()> {
    writeln!(out, r#"  <TJENESTE tjPeID="{person}" tjTjID="{n}">"#)?;
    // tjTjenType is a number: respite in institution 08.01 (rolling) and 08.02 (not
    // rolling) is type 8 with tjRullerende 1 or 2.
    element(out, 3, "tjTjenType", service.code.main())?;
    optional(out, 3, "tjVedtDato", service.decided_on.map(date))?;
    let decision = match service.decision {
        Decision::Granted => 2,
        Decision::Refused => 1,
    };
    element(out, 3, "tjVedtak", decision)?;
    if service.decision == Decision::Granted {
        let hours = service.hours.map(|h| {
            let hundredths = h.hundredths().max(0);
            format!("{}.{:02}", hundredths / 100, hundredths % 100)
        });
        optional(out, 3, "tjTimerUke", hours)?;
        let rolling = match service.code.to_string().as_str() {
            "08.01" => Some(1),
            "08.02" => Some(2),
            _ => None,
        };
        optional(out, 3, "tjRullerende", rolling)?;
        optional_text(out, 3, "tjInstOrgnr", service.orgnr.as_deref())?;
        optional(out, 3, "tjFraDato", service.start.map(date))?;
        optional(out, 3, "tjTilDato", service.end.map(date))?;
    }
    writeln!(out, "  </TJENESTE>")
}

/// `<name>value</name>` for values whose text needs no escaping (numbers, codes, dates).
fn element(out: &mut impl Write, indent: usize, name: &str, value: impl Display) -> io::Result<()> {
    writeln!(out, "{:indent$}<{name}>{value}</{name}>", "")
}

/// `<name>value</name>` for text from the EPJ or the configuration, escaped.
fn text(out: &mut impl Write, indent: usize, name: &str, value: &str) -> io::Result<()> {
    element(out, indent, name, escape(value))
}

fn optional(
    out: &mut impl Write,
    indent: usize,
    name: &str,
    value: Option<impl Display>,
) -> io::Result<()> {
    value.map_or(Ok(()), |value| element(out, indent, name, value))
}

fn optional_text(
    out: &mut impl Write,
    indent: usize,
    name: &str,
    value: Option<&str>,
) -> io::Result<()> {
    value.map_or(Ok(()), |value| text(out, indent, name, value))
}

/// IPLOS dates: `YYYYMMDD`.
pub fn date(day: NaiveDate) -> String {
    day.format("%Y%m%d").to_string()
}

/// 3100: M, K.
fn gender_code(gender: Gender) -> &'static str {
    match gender {
        Gender::Male => "M",
        Gender::Female => "K",
    }
}

/// 9335: 1 lives alone, 2 lives with others.
fn household_code(household: Household) -> u8 {
    match household {
        Household::Alone => 1,
        Household::WithOthers => 2,
    }
}

/// The district's two digits: the last two of the six-digit bydel (`460101` → `01`).
fn district_code(district: &str) -> &str {
    let district = district.trim();
    match district.len() {
        6 => &district[4..],
        2 => district,
        _ => "00",
    }
}

/// `diKodeVersjon`: `ICPC-2`, `ICD-10`.
fn code_version(system: DiagnosisSystem) -> &'static str {
    match system {
        DiagnosisSystem::Icpc2 => "ICPC-2",
        DiagnosisSystem::Icd10 => "ICD-10",
    }
}

#[derive(Debug, Error, PartialEq, Eq)]
pub enum IplosError {
    /// Refused unread: not UTF-8, or a DOCTYPE.
    #[error("{0}")]
    Refused(String),
    #[error("is not well-formed XML at line {line}: {reason}")]
    NotXml { line: u32, reason: String },
    #[error("is not an IPLOS 3.7 document: its root is {found} in {namespace}")]
    NotIplos { found: String, namespace: String },
    #[error("line {line}: {element} has no usable {attribute} ('{value}')")]
    Value {
        line: u32,
        element: String,
        attribute: &'static str,
        value: String,
    },
}

/// A fagmelding as read: the header's facts and each PERSON's fields, by element name.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Fagmelding {
    pub namespace: String,
    pub municipality: String,
    pub period: (String, String),
    pub running_number: Option<u32>,
    /// (Type, Navn) of each iiKontakt.
    pub contacts: Vec<(String, String)>,
    pub persons: Vec<IplPerson>,
}

/// One PERSON: its key, its own fields and its records, each as (element, text) pairs in
/// document order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct IplPerson {
    pub id: u64,
    pub fields: Vec<(String, String)>,
    /// (record name — PERSONOPPL, FUNKSJON, TJENESTE, DIAGNOSE, DOGNTILBUD —, its fields).
    pub records: Vec<(String, Vec<(String, String)>)>,
}

impl IplPerson {
    pub fn field(&self, name: &str) -> Option<&str> {
        find(&self.fields, name)
    }

    /// The records of one kind.
    pub fn records<'a>(&'a self, kind: &'a str) -> impl Iterator<Item = &'a [(String, String)]> {
        self.records
            .iter()
            .filter(move |(k, _)| k == kind)
            .map(|(_, fields)| fields.as_slice())
    }
}

/// A field of a record by name.
pub fn find<'a>(fields: &'a [(String, String)], name: &str) -> Option<&'a str> {
    fields
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
}

/// The records a PERSON holds, in the schema's order.
pub const RECORDS: [&str; 5] = [
    "PERSONOPPL",
    "FUNKSJON",
    "TJENESTE",
    "DIAGNOSE",
    "DOGNTILBUD",
];

/// Reads a fagmelding: any IPLOS 3.7 document, whatever year its namespace names.
pub fn read_ipl(xml: &[u8]) -> Result<Fagmelding, IplosError> {
    let text = guard::checked(xml).map_err(|refused| IplosError::Refused(refused.to_string()))?;
    let mut reader = NsReader::from_str(text);
    let mut read = Fagmelding::default();
    // The open elements' local names, and the text of the innermost.
    let mut path: Vec<String> = Vec::new();
    let mut content = String::new();
    let mut contact = (String::new(), String::new());
    loop {
        let at = usize::try_from(reader.buffer_position()).unwrap_or(usize::MAX);
        // Counted only when needed: counting for every event would take quadratic time.
        let line = || guard::line_at(text.as_bytes(), at);
        let not_xml = |reason: &dyn Display| IplosError::NotXml {
            line: line(),
            reason: hide_identity_numbers(&reason.to_string()),
        };
        let (resolved, event) = reader.read_resolved_event().map_err(|e| not_xml(&e))?;
        match event {
            Event::Start(ref e) | Event::Empty(ref e) => {
                let local = String::from_utf8_lossy(e.local_name().into_inner()).into_owned();
                if path.is_empty() {
                    let namespace = match resolved {
                        ResolveResult::Bound(ns) => String::from_utf8_lossy(ns.0).into_owned(),
                        _ => String::new(),
                    };
                    if local != "IPLOS"
                        || !namespace.starts_with("http://www.npr.no/xmlstds/iplos/")
                    {
                        return Err(IplosError::NotIplos {
                            found: local,
                            namespace,
                        });
                    }
                    read.namespace = namespace;
                }
                let key = |name: &str| -> Option<String> {
                    e.try_get_attribute(name).ok().flatten().and_then(|a| {
                        let raw = std::str::from_utf8(&a.value).ok()?;
                        quick_xml::escape::unescape(raw)
                            .ok()
                            .map(|v| v.into_owned())
                    })
                };
                match (path.len(), local.as_str()) {
                    (1, "PERSON") => {
                        let id = key("pePeID").unwrap_or_default();
                        let id = id.trim().parse().map_err(|_| IplosError::Value {
                            line: line(),
                            element: local.clone(),
                            attribute: "pePeID",
                            value: hide_identity_numbers(&id),
                        })?;
                        read.persons.push(IplPerson {
                            id,
                            ..IplPerson::default()
                        });
                    }
                    (2, record) if path[1] == "PERSON" => {
                        if let Some(person) = read.persons.last_mut() {
                            person.records.push((record.to_string(), Vec::new()));
                        }
                    }
                    _ => {}
                }
                content.clear();
                if matches!(event, Event::Start(_)) {
                    path.push(local);
                }
            }
            Event::Text(ref t) => content.push_str(&t.decode().map_err(|e| not_xml(&e))?),
            Event::GeneralRef(ref r) => match r.resolve_char_ref().map_err(|e| not_xml(&e))? {
                Some(c) => content.push(c),
                None => {
                    let name = r.decode().map_err(|e| not_xml(&e))?;
                    let value = quick_xml::escape::resolve_predefined_entity(&name)
                        .ok_or_else(|| not_xml(&format!("&{name}; is not defined")))?;
                    content.push_str(value);
                }
            },
            Event::End(_) => {
                let Some(local) = path.pop() else { continue };
                let value = content.trim().to_string();
                let parents: Vec<&str> = path.iter().map(String::as_str).collect();
                match parents.as_slice() {
                    ["IPLOS", "INNHINFO"] => match local.as_str() {
                        "iiKomnr" => read.municipality = value,
                        "iiFraDato" => read.period.0 = value,
                        "iiTilDato" => read.period.1 = value,
                        "iiLopenr" => read.running_number = value.parse().ok(),
                        "iiKontakt" => read.contacts.push(std::mem::take(&mut contact)),
                        _ => {}
                    },
                    ["IPLOS", "INNHINFO", "iiKontakt"] => match local.as_str() {
                        "Type" => contact.0 = value,
                        "Navn" => contact.1 = value,
                        _ => {}
                    },
                    ["IPLOS", "PERSON"] if !RECORDS.contains(&local.as_str()) => {
                        if let Some(person) = read.persons.last_mut() {
                            person.fields.push((local, value));
                        }
                    }
                    ["IPLOS", "PERSON", _] => {
                        if let Some((_, fields)) =
                            read.persons.last_mut().and_then(|p| p.records.last_mut())
                        {
                            fields.push((local, value));
                        }
                    }
                    _ => {}
                }
                content.clear();
            }
            Event::Eof => return Ok(read),
            _ => {}
        }
    }
}
