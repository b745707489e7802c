//! The final annual message, IPLOS 3.7: the fagmelding (`KPR_IPL`), which carries every person
//! of the year under a serial number local to the message, and the identity message
//! (`KPR_IDE`), which maps each serial number to the identity number. They go as two
//! shipments, linked by the shipment's GUID in both headers.
//!
//! The official schema is not public; the format is kpr-bridge's reconstruction
//! (`schemas/iplos37-ipl.xsd`, `schemas/iplos37-ide.xsd`, described in `docs/iplos37.md`), and
//! a user with the official XSD validates against it instead (`--schema-ipl`, `--schema-ide`).
//!
//! [`IplWriter`] and [`IdeWriter`] stream: a person is written as it comes and nothing of it is
//! kept, so a message of a million persons takes no more memory than one of a thousand.
//! [`read_ipl`] and [`read_ide`] read back what was written, for the tests and the local test
//! receiver; whether a document is valid is the schema's to say.

use std::fmt::Display;
use std::io::{self, Write};
use std::str::FromStr;

use chrono::{DateTime, SecondsFormat, Utc};
use quick_xml::NsReader;
use quick_xml::escape::{escape, unescape};
use quick_xml::events::{BytesStart, Event};
use quick_xml::name::ResolveResult;
use thiserror::Error;
use uuid::Uuid;

use super::guard;
use crate::annual::person::{AnnualPerson, AnnualService};
pub use crate::config::Contact;
use crate::daily::state::{AssessmentState, AttributeSpan};
use crate::model::{
    Decision, DiagnosisSystem, Gender, HoursPerWeek, Household, Ident, year_bounds,
};
use crate::source::problem::hide_identity_numbers;

/// The fagmelding's message type (MsgInfo/Type).
pub const FAGMELDING: &str = "KPR_IPL";
/// The identity message's message type.
pub const IDENTMELDING: &str = "KPR_IDE";

pub const NAMESPACE: &str = "urn:no:kpr-bridge:iplos37:ipl:v1";
pub const IDENT_NAMESPACE: &str = "urn:no:kpr-bridge:iplos37:ide:v1";

/// The head of both messages; the identity message keeps only shipment, municipality, year
/// and time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Header {
    pub shipment: Uuid,
    /// Four digits, valid in the reporting year.
    pub municipality: String,
    pub municipality_name: String,
    pub year: i32,
    pub generated: DateTime<Utc>,
    /// Product and version (empty when unknown) of each EPJ the year's data comes from.
    pub epj: Vec<(String, String)>,
    /// The IPLOS contact (16) and submitter (17), and whoever else is configured.
    pub contacts: Vec<Contact>,
}

/// Writes a fagmelding person by person.
pub struct IplWriter<W: Write> {
    out: W,
}

impl<W: Write> IplWriter<W> {
    /// Writes the declaration, the root and the header.
    pub fn start(mut out: W, header: &Header) -> io::Result<IplWriter<W>> {
        writeln!(out, r#"<?xml version="1.0" encoding="UTF-8"?>"#)?;
        writeln!(out, r#"<Fagmelding xmlns="{NAMESPACE}">"#)?;
        write!(out, " <Header")?;
        attribute(&mut out, "shipment", header.shipment)?;
        text_attribute(&mut out, "municipality", &header.municipality)?;
        text_attribute(&mut out, "municipalityName", &header.municipality_name)?;
        attribute(&mut out, "year", header.year)?;
        let (from, to) = year_bounds(header.year);
        attribute(&mut out, "periodFrom", from)?;
        attribute(&mut out, "periodTo", to)?;
        attribute(&mut out, "generated", time(header.generated))?;
        writeln!(out, ">")?;
        for (product, version) in &header.epj {
            write!(out, "  <Epj")?;
            text_attribute(&mut out, "product", product)?;
            if !version.is_empty() {
                text_attribute(&mut out, "version", version)?;
            }
            writeln!(out, "/>")?;
        }
        for contact in &header.contacts {
            write!(out, "  <Contact")?;
            attribute(&mut out, "type", contact.kind)?;
            text_attribute(&mut out, "name", &contact.name)?;
            optional_text(&mut out, "phone", contact.phone.as_deref())?;
            text_attribute(&mut out, "email", &contact.email)?;
            writeln!(out, "/>")?;
        }
        writeln!(out, " </Header>")?;
        Ok(IplWriter { out })
    }

    pub fn person(&mut self, person: &AnnualPerson) -> io::Result<()> {
        let out = &mut self.out;
        write!(out, " <Person")?;
        attribute(out, "serial", person.serial)?;
        optional(out, "birthYear", person.birth_year)?;
        optional(out, "gender", person.gender.map(gender_code))?;
        optional_text(out, "municipality", person.municipality.as_deref())?;
        optional_text(out, "district", person.district.as_deref())?;
        optional(out, "household", person.household.map(household_code))?;
        writeln!(out, ">")?;
        if let Some(assessment) = &person.assessment {
            write!(out, "  <Assessment")?;
            optional(out, "date", assessment.assessed_on)?;
            writeln!(out, ">")?;
            for (variable, value) in &assessment.scores {
                write!(out, "   <Score")?;
                text_attribute(out, "variable", variable)?;
                attribute(out, "value", value)?;
                writeln!(out, "/>")?;
            }
            writeln!(out, "  </Assessment>")?;
        }
        for span in &person.attributes {
            write!(out, "  <Attribute")?;
            attribute(out, "kind", span.kind.as_str())?;
            optional(out, "from", span.from)?;
            optional(out, "to", span.to)?;
            writeln!(out, "/>")?;
        }
        for (system, code) in &person.diagnoses {
            write!(out, "  <Diagnosis")?;
            attribute(out, "system", system_code(*system))?;
            text_attribute(out, "code", code)?;
            writeln!(out, "/>")?;
        }
        for service in &person.services {
            match service.decision {
                Decision::Granted => {
                    write!(out, "  <Service")?;
                    attribute(out, "code", service.code)?;
                    optional(out, "decided", service.decided_on)?;
                    optional(out, "start", service.start)?;
                    optional(out, "end", service.end)?;
                    optional(out, "hoursPerWeek", service.hours)?;
                    optional_text(out, "orgnr", service.orgnr.as_deref())?;
                }
                Decision::Refused => {
                    write!(out, "  <Refusal")?;
                    attribute(out, "code", service.code)?;
                    optional(out, "decided", service.decided_on)?;
                }
            }
            writeln!(out, "/>")?;
        }
        writeln!(out, " </Person>")
    }

    /// Closes the root and flushes; gives the writer back.
    pub fn finish(mut self) -> io::Result<W> {
        writeln!(self.out, "</Fagmelding>")?;
        self.out.flush()?;
        Ok(self.out)
    }
}

/// Writes an identity message entry by entry.
pub struct IdeWriter<W: Write> {
    out: W,
}

impl<W: Write> IdeWriter<W> {
    pub fn start(mut out: W, header: &Header) -> io::Result<IdeWriter<W>> {
        writeln!(out, r#"<?xml version="1.0" encoding="UTF-8"?>"#)?;
        writeln!(out, r#"<Identmelding xmlns="{IDENT_NAMESPACE}">"#)?;
        write!(out, " <Header")?;
        attribute(&mut out, "shipment", header.shipment)?;
        text_attribute(&mut out, "municipality", &header.municipality)?;
        attribute(&mut out, "year", header.year)?;
        attribute(&mut out, "generated", time(header.generated))?;
        writeln!(out, "/>")?;
        Ok(IdeWriter { out })
    }

    pub fn person(&mut self, serial: u32, ident: &Ident) -> io::Result<()> {
        write!(self.out, " <Person")?;
        attribute(&mut self.out, "serial", serial)?;
        text_attribute(&mut self.out, "ident", ident.expose())?;
        writeln!(self.out, "/>")
    }

    pub fn finish(mut self) -> io::Result<W> {
        writeln!(self.out, "</Identmelding>")?;
        self.out.flush()?;
        Ok(self.out)
    }
}

/// ` name="value"` for values whose text needs no escaping (numbers, codes, dates).
fn attribute(out: &mut impl Write, name: &str, value: impl Display) -> io::Result<()> {
    write!(out, r#" {name}="{value}""#)
}

/// ` name="value"` for text from the EPJ or the configuration, escaped.
fn text_attribute(out: &mut impl Write, name: &str, value: &str) -> io::Result<()> {
    write!(out, r#" {name}="{}""#, escape(value))
}

fn optional(out: &mut impl Write, name: &str, value: Option<impl Display>) -> io::Result<()> {
    match value {
        Some(value) => attribute(out, name, value),
        None => Ok(()),
    }
}

fn optional_text(out: &mut impl Write, name: &str, value: Option<&str>) -> io::Result<()> {
    match value {
        Some(value) => text_attribute(out, name, value),
        None => Ok(()),
    }
}

/// xs:dateTime in UTC, to the second.
fn time(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// IPLOS coding: 1 male, 2 female.
fn gender_code(gender: Gender) -> u8 {
    match gender {
        Gender::Male => 1,
        Gender::Female => 2,
    }
}

/// IPLOS coding: 1 alone, 2 with others.
fn household_code(household: Household) -> u8 {
    match household {
        Household::Alone => 1,
        Household::WithOthers => 2,
    }
}

fn system_code(system: DiagnosisSystem) -> &'static str {
    match system {
        DiagnosisSystem::Icpc2 => "ICPC2",
        DiagnosisSystem::Icd10 => "ICD10",
    }
}

#[derive(Debug, Error, PartialEq, Eq)]
pub enum IplosError {
    /// Refused unread: not UTF-8, or a DOCTYPE.
    #[error("{0}")]
    Refused(String),
    #[error("is not well-formed XML at line {line}: {reason}")]
    NotXml { line: u32, reason: String },
    #[error("is not a {expected}: its root is {found}")]
    NotOurs {
        expected: &'static str,
        found: String,
    },
    #[error("line {line}: {element} has no usable {attribute} ('{value}')")]
    Value {
        line: u32,
        element: String,
        attribute: &'static str,
        value: String,
    },
    #[error("line {line}: {element} is not expected here")]
    Unexpected { line: u32, element: String },
}

/// A fagmelding as read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fagmelding {
    pub header: Header,
    pub persons: Vec<AnnualPerson>,
}

/// Reads a fagmelding back.
pub fn read_ipl(xml: &[u8]) -> Result<Fagmelding, IplosError> {
    let mut header: Option<Header> = None;
    let mut persons: Vec<AnnualPerson> = Vec::new();
    walk(xml, NAMESPACE, "Fagmelding", "KPR_IPL fagmelding", |e| {
        match e.local {
            "Header" => {
                let year: i32 = e.required("year")?;
                header = Some(Header {
                    shipment: e.required("shipment")?,
                    municipality: e.required("municipality")?,
                    municipality_name: e.required("municipalityName")?,
                    year,
                    generated: e.time("generated")?,
                    epj: Vec::new(),
                    contacts: Vec::new(),
                });
            }
            "Epj" => {
                let version = e.optional::<String>("version")?.unwrap_or_default();
                let product = e.required("product")?;
                e.within(header.as_mut())?.epj.push((product, version));
            }
            "Contact" => {
                let contact = Contact {
                    kind: e.required("type")?,
                    name: e.required("name")?,
                    phone: e.optional("phone")?,
                    email: e.required("email")?,
                };
                e.within(header.as_mut())?.contacts.push(contact);
            }
            "Person" => persons.push(AnnualPerson {
                serial: e.required("serial")?,
                birth_year: e.optional("birthYear")?,
                gender: e.coded("gender", &[("1", Gender::Male), ("2", Gender::Female)])?,
                municipality: e.optional("municipality")?,
                district: e.optional("district")?,
                household: e.coded(
                    "household",
                    &[("1", Household::Alone), ("2", Household::WithOthers)],
                )?,
                ..AnnualPerson::default()
            }),
            "Assessment" => {
                let assessed_on = e.optional("date")?;
                e.within(persons.last_mut())?.assessment = Some(AssessmentState {
                    assessed_on,
                    scores: Vec::new(),
                });
            }
            "Score" => {
                let score = (e.required("variable")?, e.required("value")?);
                let person = e.within(persons.last_mut())?;
                e.within(person.assessment.as_mut())?.scores.push(score);
            }
            "Attribute" => {
                let span = AttributeSpan {
                    kind: e.required("kind")?,
                    from: e.optional("from")?,
                    to: e.optional("to")?,
                };
                e.within(persons.last_mut())?.attributes.push(span);
            }
            "Diagnosis" => {
                let system = e.coded(
                    "system",
                    &[
                        ("ICPC2", DiagnosisSystem::Icpc2),
                        ("ICD10", DiagnosisSystem::Icd10),
                    ],
                )?;
                let system = system.ok_or_else(|| e.bad("system", ""))?;
                let diagnosis = (system, e.required("code")?);
                e.within(persons.last_mut())?.diagnoses.push(diagnosis);
            }
            "Service" | "Refusal" => {
                let refused = e.local == "Refusal";
                let service = AnnualService {
                    code: e.required("code")?,
                    decision: if refused {
                        Decision::Refused
                    } else {
                        Decision::Granted
                    },
                    start: e.optional("start")?,
                    end: e.optional("end")?,
                    decided_on: e.optional("decided")?,
                    hours: e.optional::<HoursPerWeek>("hoursPerWeek")?,
                    orgnr: e.optional("orgnr")?,
                };
                e.within(persons.last_mut())?.services.push(service);
            }
            _ => return Err(e.unexpected()),
        }
        Ok(())
    })?;
    let header = header.ok_or(IplosError::Unexpected {
        line: 1,
        element: "Fagmelding without Header".to_string(),
    })?;
    Ok(Fagmelding { header, persons })
}

/// Reads an identity message back: its shipment and each serial number with its identity
/// number, in the order written.
pub fn read_ide(xml: &[u8]) -> Result<(Uuid, Vec<(u32, String)>), IplosError> {
    let mut shipment = None;
    let mut persons = Vec::new();
    walk(
        xml,
        IDENT_NAMESPACE,
        "Identmelding",
        "KPR_IDE identity message",
        |e| {
            match e.local {
                "Header" => shipment = Some(e.required("shipment")?),
                "Person" => persons.push((e.required("serial")?, e.required("ident")?)),
                _ => return Err(e.unexpected()),
            }
            Ok(())
        },
    )?;
    let shipment = shipment.ok_or(IplosError::Unexpected {
        line: 1,
        element: "Identmelding without Header".to_string(),
    })?;
    Ok((shipment, persons))
}

/// One element below the root, with its attributes, as [`walk`] hands it over.
struct Element<'a> {
    local: &'a str,
    line: u32,
    attributes: Vec<(String, String)>,
}

impl Element<'_> {
    fn value(&self, name: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    fn bad(&self, attribute: &'static str, value: &str) -> IplosError {
        IplosError::Value {
            line: self.line,
            element: self.local.to_string(),
            attribute,
            value: hide_identity_numbers(value),
        }
    }

    fn optional<T: FromStr>(&self, name: &'static str) -> Result<Option<T>, IplosError> {
        self.value(name)
            .map(|v| v.parse().map_err(|_| self.bad(name, v)))
            .transpose()
    }

    fn required<T: FromStr>(&self, name: &'static str) -> Result<T, IplosError> {
        self.optional(name)?.ok_or_else(|| self.bad(name, ""))
    }

    fn time(&self, name: &'static str) -> Result<DateTime<Utc>, IplosError> {
        let text: String = self.required(name)?;
        DateTime::parse_from_rfc3339(&text)
            .map(|t| t.with_timezone(&Utc))
            .map_err(|_| self.bad(name, &text))
    }

    fn coded<T: Copy>(
        &self,
        name: &'static str,
        codes: &[(&str, T)],
    ) -> Result<Option<T>, IplosError> {
        self.value(name)
            .map(|v| {
                codes
                    .iter()
                    .find(|(code, _)| *code == v)
                    .map(|(_, value)| *value)
                    .ok_or_else(|| self.bad(name, v))
            })
            .transpose()
    }

    /// What the element belongs to (a person, an assessment), or an error if it stands
    /// outside one.
    fn within<'p, T>(&self, parent: Option<&'p mut T>) -> Result<&'p mut T, IplosError> {
        parent.ok_or_else(|| self.unexpected())
    }

    fn unexpected(&self) -> IplosError {
        IplosError::Unexpected {
            line: self.line,
            element: self.local.to_string(),
        }
    }
}

/// Reads the document and hands each element below the root, in document order, to `each`.
fn walk(
    xml: &[u8],
    namespace: &str,
    root: &str,
    what: &'static str,
    mut each: impl FnMut(&Element) -> Result<(), IplosError>,
) -> Result<(), IplosError> {
    let text = guard::checked(xml).map_err(|refused| IplosError::Refused(refused.to_string()))?;
    let mut reader = NsReader::from_str(text);
    let mut depth = 0usize;
    loop {
        let at = usize::try_from(reader.buffer_position()).unwrap_or(usize::MAX);
        let line = guard::line_at(text.as_bytes(), at);
        let not_xml = |reason: &dyn Display| IplosError::NotXml {
            line,
            reason: hide_identity_numbers(&reason.to_string()),
        };
        let (resolved, event) = reader.read_resolved_event().map_err(|e| not_xml(&e))?;
        let ours = matches!(resolved, ResolveResult::Bound(ns) if ns.0 == namespace.as_bytes());
        match event {
            Event::Start(ref e) | Event::Empty(ref e) => {
                let local = std::str::from_utf8(e.local_name().into_inner())
                    .map_err(|e| not_xml(&e))?
                    .to_string();
                if depth == 0 {
                    if !ours || local != root {
                        return Err(IplosError::NotOurs {
                            expected: what,
                            found: local,
                        });
                    }
                } else {
                    if !ours {
                        return Err(IplosError::Unexpected {
                            line,
                            element: local,
                        });
                    }
                    let attributes = attributes_of(e).map_err(|e| not_xml(&e))?;
                    each(&Element {
                        local: &local,
                        line,
                        attributes,
                    })?;
                }
                if matches!(event, Event::Start(_)) {
                    depth += 1;
                }
            }
            Event::End(_) => depth = depth.saturating_sub(1),
            Event::Eof => return Ok(()),
            _ => {}
        }
    }
}

fn attributes_of(element: &BytesStart) -> Result<Vec<(String, String)>, String> {
    element
        .attributes()
        .map(|attribute| {
            let attribute = attribute.map_err(|e| e.to_string())?;
            let name = std::str::from_utf8(attribute.key.as_ref()).map_err(|e| e.to_string())?;
            let raw = std::str::from_utf8(&attribute.value).map_err(|e| e.to_string())?;
            let value = unescape(raw).map_err(|e| e.to_string())?;
            Ok((name.to_string(), value.into_owned()))
        })
        .filter(|a: &Result<(String, String), String>| {
            a.as_ref()
                .map_or(true, |(name, _)| !name.starts_with("xmlns"))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;

    use super::*;
    use crate::model::{AttributeKind, ServiceCode};

    fn header() -> Header {
        Header {
            shipment: Uuid::from_u128(7),
            municipality: "4601".into(),
            municipality_name: "Bergen & omegn".into(),
            year: 2025,
            generated: DateTime::parse_from_rfc3339("2026-01-10T08:00:00Z")
                .unwrap()
                .with_timezone(&Utc),
            epj: vec![
                ("Gerica".into(), "5.1".into()),
                ("Profil".into(), String::new()),
            ],
            contacts: vec![
                Contact {
                    kind: 16,
                    name: "Kari \"IPLOS\" Kontakt".into(),
                    phone: Some("55 00 00 00".into()),
                    email: "iplos@example.invalid".into(),
                },
                Contact {
                    kind: 17,
                    name: "Ola & Co".into(),
                    phone: None,
                    email: "innsending@example.invalid".into(),
                },
            ],
        }
    }

    fn date(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    fn person() -> AnnualPerson {
        AnnualPerson {
            serial: 1,
            birth_year: Some(1938),
            gender: Some(Gender::Female),
            municipality: Some("4601".into()),
            district: None,
            household: Some(Household::Alone),
            assessment: Some(AssessmentState {
                assessed_on: Some(date("2025-03-01")),
                scores: vec![("HUKOMMELSE".into(), 3), ("SOSIAL<&>".into(), 9)],
            }),
            attributes: vec![AttributeSpan {
                kind: AttributeKind::IndividualPlan,
                from: Some(date("2025-01-01")),
                to: None,
            }],
            diagnoses: vec![(DiagnosisSystem::Icpc2, "K86".into())],
            services: vec![
                AnnualService {
                    code: "15".parse::<ServiceCode>().unwrap(),
                    decision: Decision::Granted,
                    start: Some(date("2025-01-01")),
                    end: Some(date("2025-02-28")),
                    decided_on: Some(date("2024-09-20")),
                    hours: Some("7.5".parse().unwrap()),
                    orgnr: Some("964338531".into()),
                },
                AnnualService {
                    code: "06".parse::<ServiceCode>().unwrap(),
                    decision: Decision::Refused,
                    start: None,
                    end: None,
                    decided_on: Some(date("2025-05-02")),
                    hours: None,
                    orgnr: None,
                },
            ],
        }
    }

    #[test]
    fn fagmelding_reads_back_as_written() {
        let mut writer = IplWriter::start(Vec::new(), &header()).unwrap();
        writer.person(&person()).unwrap();
        let second = AnnualPerson {
            serial: 2,
            ..AnnualPerson::default()
        };
        writer.person(&second).unwrap();
        let xml = writer.finish().unwrap();
        let read = read_ipl(&xml).unwrap();
        assert_eq!(read.header, header());
        assert_eq!(read.persons, vec![person(), second]);
    }

    #[test]
    fn identity_message_reads_back_as_written() {
        let mut writer = IdeWriter::start(Vec::new(), &header()).unwrap();
        writer.person(1, &Ident::new("01015012345")).unwrap();
        writer.person(2, &Ident::new("41015012345")).unwrap();
        let xml = writer.finish().unwrap();
        let (shipment, persons) = read_ide(&xml).unwrap();
        assert_eq!(shipment, header().shipment);
        assert_eq!(
            persons,
            vec![(1, "01015012345".into()), (2, "41015012345".into())]
        );
    }

    #[test]
    fn reading_the_wrong_document_says_what_it_is() {
        let ide = IdeWriter::start(Vec::new(), &header())
            .unwrap()
            .finish()
            .unwrap();
        let error = read_ipl(&ide).unwrap_err();
        assert!(matches!(error, IplosError::NotOurs { .. }), "{error}");
        let broken = b"<Fagmelding xmlns=\"urn:no:kpr-bridge:iplos37:ipl:v1\"><Person serial=\"x\"/></Fagmelding>";
        let error = read_ipl(broken).unwrap_err();
        assert!(error.to_string().contains("serial"), "{error}");
    }
}
