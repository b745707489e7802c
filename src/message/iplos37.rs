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
//! [`IplWriter`] streams: a person is written as it comes and nothing of it is kept. It
//! writes into [`Records`]: the text ([`Xml`]), or the register's checks.
//! [`read_ipl`] reads a document back (ours, or the register's example) for the tests and
//! the local test receiver; whether it is valid is the schema's to say.

use std::fmt::Display;
use std::io::{self, Write};

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use chrono_tz::Europe::Oslo;
use compact_str::CompactString;
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

/// Where a fagmelding's records go as they are made: [`Xml`], the document's text, or the
/// register's arrival checks on the values themselves (`assembly::checker::Checker`). One
/// writer ([`IplWriter`]) feeds both, so that what is checked is what is written.
pub trait Records {
    /// A record opens inside the one open before it, with its attributes (`pePeID="7"`).
    fn open(
        &mut self,
        record: &'static str,
        attributes: &[(&'static str, &dyn Display)],
    ) -> io::Result<()>;
    /// A field of the innermost open record: a number, code or date, which needs no escaping.
    fn field(&mut self, name: &'static str, value: impl Display) -> io::Result<()>;
    /// A field whose text comes from the EPJ or the configuration.
    fn text(&mut self, name: &'static str, value: &str) -> io::Result<()>;
    /// The innermost open record closes.
    fn close(&mut self, record: &'static str) -> io::Result<()>;
}

/// The document's text: a record's tag on a line of its own, each field on one, indented by
/// depth; the root carries the namespace.
pub struct Xml<W: Write> {
    out: W,
    namespace: String,
    depth: usize,
}

impl<W: Write> Xml<W> {
    /// Writes the declaration.
    pub fn new(mut out: W, namespace: &str) -> io::Result<Xml<W>> {
        writeln!(out, r#"<?xml version="1.0" encoding="UTF-8"?>"#)?;
        Ok(Xml {
            out,
            namespace: namespace.to_string(),
            depth: 0,
        })
    }

    /// Flushes; gives the writer back.
    pub fn into_inner(mut self) -> io::Result<W> {
        self.out.flush()?;
        Ok(self.out)
    }
}

impl<W: Write> Records for Xml<W> {
    fn open(
        &mut self,
        record: &'static str,
        attributes: &[(&'static str, &dyn Display)],
    ) -> io::Result<()> {
        write!(self.out, "{:indent$}<{record}", "", indent = self.depth)?;
        if self.depth == 0 {
            write!(self.out, r#" xmlns="{}""#, escape(&self.namespace))?;
        }
        for (name, value) in attributes {
            write!(self.out, r#" {name}="{value}""#)?;
        }
        writeln!(self.out, ">")?;
        self.depth += 1;
        Ok(())
    }

    fn field(&mut self, name: &'static str, value: impl Display) -> io::Result<()> {
        writeln!(
            self.out,
            "{:indent$}<{name}>{value}</{name}>",
            "",
            indent = self.depth
        )
    }

    fn text(&mut self, name: &'static str, value: &str) -> io::Result<()> {
        self.field(name, escape(value))
    }

    fn close(&mut self, record: &'static str) -> io::Result<()> {
        self.depth = self.depth.saturating_sub(1);
        writeln!(self.out, "{:indent$}</{record}>", "", indent = self.depth)
    }
}

/// Writes a fagmelding person by person, into any [`Records`].
pub struct IplWriter<R: Records> {
    records: R,
    /// First and last day of the year.
    period: (NaiveDate, NaiveDate),
    variables: AssessmentVariables,
    /// Each variable's 9111 code as found in `variables`: asked for every score.
    codes: foldhash::HashMap<CompactString, Option<u8>>,
}

impl<W: Write> IplWriter<Xml<W>> {
    /// Writes the declaration, the root and INNHINFO as text to `out`.
    pub fn start(
        out: W,
        header: &Header,
        variables: AssessmentVariables,
    ) -> io::Result<IplWriter<Xml<W>>> {
        IplWriter::over(Xml::new(out, &header.namespace)?, header, variables)
    }

    /// Closes the root and flushes; gives the writer back.
    pub fn finish(self) -> io::Result<W> {
        self.end()?.into_inner()
    }
}

impl<R: Records> IplWriter<R> {
    /// Opens the root and writes INNHINFO. `variables` gives each assessment variable its
    /// code (9111).
    pub fn over(
        mut records: R,
        header: &Header,
        variables: AssessmentVariables,
    ) -> io::Result<IplWriter<R>> {
        let period = year_bounds(header.year);
        let out = &mut records;
        out.open("IPLOS", &[("versjon", &VERSION)])?;
        out.open("INNHINFO", &[])?;
        out.field("iiInnhType", "P")?;
        out.text("iiKomnr", &header.municipality)?;
        out.text("iiBydelsnr", &header.district)?;
        for contact in &header.contacts {
            out.open("iiKontakt", &[])?;
            // Code system 9341 is published nowhere: the role is given in 8471's codes.
            out.field("Type", contact.kind)?;
            out.text("Navn", &contact.name)?;
            out.text("Telefon", contact.phone.as_deref().unwrap_or(""))?;
            out.text("Epost", &contact.email)?;
            out.close("iiKontakt")?;
        }
        out.field("iiFraDato", Ymd(period.0))?;
        out.field("iiTilDato", Ymd(period.1))?;
        let made = header.generated.with_timezone(&Oslo).date_naive();
        out.field("iiLagetDato", Ymd(made))?;
        out.field("iiSysID", SYSTEM_ID)?;
        let version: String = env!("CARGO_PKG_VERSION").chars().take(15).collect();
        out.field("iiSysVersjon", version)?;
        out.field("iiLopenr", header.running_number)?;
        out.close("INNHINFO")?;
        Ok(IplWriter {
            records,
            period,
            variables,
            codes: Default::default(),
        })
    }

    /// A writer for persons that follow those of another (the register's checks run over
    /// the year in parts): nothing is written before them, and [`IplWriter::into_records`]
    /// closes nothing after.
    pub fn continued(records: R, header: &Header, variables: AssessmentVariables) -> IplWriter<R> {
        IplWriter {
            records,
            period: year_bounds(header.year),
            variables,
            codes: Default::default(),
        }
    }

    /// The records, as they are.
    pub fn into_records(self) -> R {
        self.records
    }

    pub fn person(&mut self, person: &AnnualPerson, year: i32) -> io::Result<()> {
        let id = person.serial;
        let out = &mut self.records;
        out.open("PERSON", &[("pePeID", &id)])?;
        // Age on 31 December of the reporting year, from the year of birth.
        if let Some(born) = person.birth_year {
            out.field("peAlder", year - i32::from(born))?;
        }
        if let Some(gender) = person.gender {
            out.field("peKjonn", gender_code(gender))?;
        }
        if let Some(municipality) = &person.municipality {
            out.text("peKomnr", municipality)?;
            let district = person.district.as_deref().map_or("00", district_code);
            out.text("peBydelsnr", district)?;
        }
        person_information(out, person)?;
        if let Some(assessment) = &person.assessment {
            let from = Ymd(assessment.assessed_on.unwrap_or(self.period.0));
            let mut n = 0;
            for (variable, score) in &assessment.scores {
                let code = match self.codes.get(variable.as_str()) {
                    Some(&code) => code,
                    None => {
                        let code = self.variables.find(variable).and_then(|v| v.iplos);
                        self.codes.insert(variable.clone(), code);
                        code
                    }
                };
                let Some(code) = code else {
                    continue;
                };
                n += 1;
                out.open("FUNKSJON", &[("fnPeID", &id), ("fnFnID", &n)])?;
                out.field("fnFunkType", code)?;
                out.field("fnFunkVerdi", score)?;
                out.field("fnFraDato", from)?;
                out.field("fnTilDato", OPEN)?;
                out.close("FUNKSJON")?;
            }
        }
        for (n, service) in person.services.iter().enumerate() {
            service_record(out, id, n + 1, service)?;
        }
        for (n, (system, code)) in person.diagnoses.iter().enumerate() {
            out.open("DIAGNOSE", &[("diPeID", &id), ("diDiID", &(n + 1))])?;
            out.field("diKodeVersjon", code_version(*system))?;
            out.text("diDiagKode", code)?;
            out.field("diFraDato", Ymd(self.period.0))?;
            out.field("diTilDato", OPEN)?;
            out.close("DIAGNOSE")?;
        }
        let stays = person.services.iter().filter(|s| {
            s.decision == Decision::Granted && ROUND_THE_CLOCK.contains(&s.code.main())
        });
        for (n, stay) in stays.enumerate() {
            out.open("DOGNTILBUD", &[("dgPeID", &id), ("dgDgID", &(n + 1))])?;
            if let Some(orgnr) = &stay.orgnr {
                out.text("dgInstOrgnr", orgnr)?;
            }
            optional(out, "dgFraDato", stay.start.map(Ymd))?;
            optional(out, "dgTilDato", stay.end.map(Ymd))?;
            out.close("DOGNTILBUD")?;
        }
        out.close("PERSON")
    }

    /// Closes the root; gives the records back.
    pub fn end(mut self) -> io::Result<R> {
        self.records.close("IPLOS")?;
        Ok(self.records)
    }
}

/// PERSONOPPL: household and the person attributes, one record when there is any.
fn person_information(out: &mut impl Records, person: &AnnualPerson) -> io::Result<()> {
    let attribute = |kind: AttributeKind| person.attributes.iter().find(|a| a.kind == kind);
    if person.household.is_none() && person.attributes.is_empty() {
        return Ok(());
    }
    out.open("PERSONOPPL", &[("poPeID", &person.serial), ("poPoID", &1)])?;
    optional(out, "poHusstand", person.household.map(household_code))?;
    // Assessed by dental health personnel or a physician: the month, YYYYMM.
    let month = |kind| {
        attribute(kind)
            .and_then(|a| a.from)
            .map(|d| d.format("%Y%m"))
    };
    optional(out, "poVurdTann", month(AttributeKind::DentalAssessment))?;
    optional(out, "poVurdLege", month(AttributeKind::DoctorAssessment))?;
    // 9336: 1 = an individual plan in effect.
    optional(
        out,
        "poIndPlan",
        attribute(AttributeKind::IndividualPlan).map(|_| 1),
    )?;
    // 9188 as the register's one-character check allows: 1 = a coordinator appointed.
    optional(
        out,
        "poHarKoordinator",
        attribute(AttributeKind::Coordinator).map(|_| 1),
    )?;
    let rehab = attribute(AttributeKind::RehabOutsideInstitution);
    optional(out, "poHab", rehab.map(|_| 1))?;
    optional(out, "poHabDato", rehab.and_then(|a| a.from).map(Ymd))?;
    out.close("PERSONOPPL")
}

/// One TJENESTE: a grant or a refusal (9171: 2 granted, 1 refused).
fn service_record(
    out: &mut impl Records,
    person: u32,
    n: usize,
    service: &AnnualService,
) -> io::Result<()> {
    out.open("TJENESTE", &[("tjPeID", &person), ("tjTjID", &n)])?;
    // tjTjenType is a number: respite in institution 08.01 (rolling) and 08.02 (not
    // rolling) is type 8 with tjRullerende 1 or 2.
    out.field("tjTjenType", service.code.main())?;
    optional(out, "tjVedtDato", service.decided_on.map(Ymd))?;
    let decision = match service.decision {
        Decision::Granted => 2,
        Decision::Refused => 1,
    };
    out.field("tjVedtak", decision)?;
    if service.decision == Decision::Granted {
        let hours = service.hours.map(|h| {
            let hundredths = h.hundredths().max(0);
            format!("{}.{:02}", hundredths / 100, hundredths % 100)
        });
        optional(out, "tjTimerUke", hours)?;
        let rolling = match service.code.to_string().as_str() {
            "08.01" => Some(1),
            "08.02" => Some(2),
            _ => None,
        };
        optional(out, "tjRullerende", rolling)?;
        if let Some(orgnr) = &service.orgnr {
            out.text("tjInstOrgnr", orgnr)?;
        }
        optional(out, "tjFraDato", service.start.map(Ymd))?;
        optional(out, "tjTilDato", service.end.map(Ymd))?;
    }
    out.close("TJENESTE")
}

fn optional(
    out: &mut impl Records,
    name: &'static str,
    value: Option<impl Display>,
) -> io::Result<()> {
    value.map_or(Ok(()), |value| out.field(name, value))
}

/// A day as IPLOS writes it, `YYYYMMDD`, without making a string.
#[derive(Clone, Copy)]
struct Ymd(NaiveDate);

impl Display for Ymd {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let day = self.0;
        if (0..=9999).contains(&day.year()) {
            write!(f, "{:04}{:02}{:02}", day.year(), day.month(), day.day())
        } else {
            write!(f, "{}", day.format("%Y%m%d"))
        }
    }
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
