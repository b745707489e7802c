//! The daily messages (KTT): the fagmelding, which carries the day's change events with
//! persons by their pseudonymous key, and the identity message of the same shipment, which
//! maps each key new to the register to its identity number.
//!
//! The format is kpr-bridge's own (`schemas/kpr-ktt-v0.1.xsd`, `schemas/kpr-ktt-ide-v0.1.xsd`),
//! after the public design of KPR's minimelding, and it is isolated here: when FHI's official
//! daily schema is at hand, it replaces this module and those two XSDs and nothing else.
//!
//! [`fagmelding`] and [`identmelding`] write; [`read_fagmelding`] and [`read_identmelding`]
//! read back what was written, for the tests and the local test receiver. The readers take
//! the document through the guard (UTF-8, no DOCTYPE) and quick-xml's namespace-aware reader,
//! and judge structure and values only as far as building the values needs: whether a
//! document is valid is the schema's to say.

use std::fmt;
use std::iter::Peekable;
use std::slice;
use std::str::FromStr;

use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use quick_xml::NsReader;
use quick_xml::escape::resolve_predefined_entity;
use quick_xml::events::Event as XmlEvent;
use quick_xml::name::ResolveResult;
use thiserror::Error;
use uuid::Uuid;

use super::guard;
use super::out::Out;
use crate::daily::event::{About, Event, EventKind, PersonFact, ServiceFacts, Status};
use crate::daily::state::{AssessmentState, AttributeSpan, PersonKey, Residence};
use crate::model::{
    AttributeKind, Decision, DiagnosisSystem, HoursPerWeek, Household, Ident, Pause, ServiceCode,
};
use crate::source::problem::{hide_identity_numbers, shown_value};

/// The fagmelding's message type (MsgInfo/Type).
pub const FAGMELDING: &str = "KPR_KTT";
/// The identity message's message type.
pub const IDENTMELDING: &str = "KPR_KTT_IDE";

pub const NAMESPACE: &str = "urn:no:kpr-bridge:ktt:v0.1";
pub const IDENT_NAMESPACE: &str = "urn:no:kpr-bridge:ktt-ide:v0.1";

/// Code system 7371: K, continuous reporting.
pub const MESSAGE_KIND: &str = "K";

/// The head of both messages of a shipment; the identity message leaves out the name and
/// the EPJ products.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Header {
    /// Shared by the fagmelding and its identity message.
    pub shipment: Uuid,
    /// Four digits.
    pub municipality: String,
    pub municipality_name: String,
    /// The day reported.
    pub reporting_date: NaiveDate,
    pub generated: DateTime<Utc>,
    /// The EPJ products the data comes from, with their versions; an empty version is left
    /// out. The schema asks for at least one.
    pub epj: Vec<(String, String)>,
}

/// A fagmelding as read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fagmelding {
    pub header: Header,
    pub events: Vec<Event>,
}

#[derive(Debug, Error, PartialEq, Eq)]
pub enum KttError {
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
    /// An element missing, out of place or of another namespace.
    #[error("line {line}: {what}")]
    Structure { line: u32, what: String },
    #[error("line {line}: {element} holds {value}, which is not {expected}")]
    Value {
        line: u32,
        element: String,
        value: String,
        expected: &'static str,
    },
    #[error("says it holds {said} {what}, and holds {found}")]
    Count {
        what: &'static str,
        said: usize,
        found: usize,
    },
}

/// Writes the fagmelding of a shipment: its header, then the events in the order given.
pub fn fagmelding(header: &Header, events: &[Event]) -> Vec<u8> {
    let mut out = Out::document(2);
    out.start("Fagmelding", &[("xmlns", NAMESPACE)]);
    out.start("Header", &[]);
    out.text("MessageKind", MESSAGE_KIND);
    out.text("ShipmentId", &header.shipment.to_string());
    out.text("Municipality", &header.municipality);
    out.text("MunicipalityName", &header.municipality_name);
    out.text("ReportingDate", &header.reporting_date.to_string());
    out.text("Generated", &time(header.generated));
    for (product, version) in &header.epj {
        out.start("Epj", &[]);
        out.text("Product", product);
        if !version.is_empty() {
            out.text("Version", version);
        }
        out.end("Epj");
    }
    out.text("EventCount", &events.len().to_string());
    out.end("Header");
    for event in events {
        write_event(&mut out, event);
    }
    out.end("Fagmelding");
    out.finish()
}

/// Writes the identity message of a shipment: each person's key with the identity number.
pub fn identmelding(header: &Header, persons: &[(PersonKey, Ident)]) -> Vec<u8> {
    let mut out = Out::document(2);
    out.start("Identmelding", &[("xmlns", IDENT_NAMESPACE)]);
    out.start("Header", &[]);
    out.text("MessageKind", MESSAGE_KIND);
    out.text("ShipmentId", &header.shipment.to_string());
    out.text("Municipality", &header.municipality);
    out.text("ReportingDate", &header.reporting_date.to_string());
    out.text("Generated", &time(header.generated));
    out.text("PersonCount", &persons.len().to_string());
    out.end("Header");
    for (key, ident) in persons {
        out.start("Person", &[]);
        out.text("PersonKey", &key.to_string());
        out.text("Ident", ident.expose());
        out.end("Person");
    }
    out.end("Identmelding");
    out.finish()
}

fn write_event(out: &mut Out, event: &Event) {
    out.start("Event", &[]);
    out.text("Id", &event.id.to_string());
    optional(out, "Previous", event.previous);
    out.text("Kind", event.kind.as_str());
    out.text("Status", event.status.code());
    out.text("EffectiveDate", &event.effective_on.to_string());
    out.text("Registered", &time(event.registered_at));
    out.text("PersonKey", &event.person.to_string());
    match &event.about {
        About::Service {
            service,
            facts,
            pause,
        } => {
            out.start("Service", &[]);
            out.text("ServiceId", &service.to_string());
            out.text("Code", &facts.code.to_string());
            out.text("Decision", decision_code(facts.decision));
            optional(out, "DecidedOn", facts.decided_on);
            optional(out, "Start", facts.start);
            optional(out, "End", facts.end);
            optional(out, "HoursPerWeek", facts.hours);
            optional(out, "Orgnr", facts.orgnr.as_deref());
            if let Some(pause) = pause {
                out.start("Pause", &[]);
                out.text("From", &pause.from.to_string());
                optional(out, "To", pause.to);
                out.end("Pause");
            }
            out.end("Service");
        }
        About::Person(fact) => {
            out.start("Person", &[]);
            write_person_fact(out, fact);
            out.end("Person");
        }
    }
    out.end("Event");
}

fn write_person_fact(out: &mut Out, fact: &PersonFact) {
    match fact {
        PersonFact::Residence(residence) => {
            out.start("Residence", &[]);
            optional(out, "Municipality", residence.municipality.as_deref());
            optional(out, "District", residence.district.as_deref());
            optional(out, "Household", residence.household.map(household_code));
            out.end("Residence");
        }
        // Neither date nor scores: the same to the register as no assessment.
        PersonFact::Assessment(None) => out.empty("Assessment", &[]),
        PersonFact::Assessment(Some(state))
            if state.assessed_on.is_none() && state.scores.is_empty() =>
        {
            out.empty("Assessment", &[]);
        }
        PersonFact::Assessment(Some(state)) => {
            out.start("Assessment", &[]);
            optional(out, "AssessedOn", state.assessed_on);
            for (variable, value) in &state.scores {
                out.start("Score", &[]);
                out.text("Variable", variable);
                out.text("Value", &value.to_string());
                out.end("Score");
            }
            out.end("Assessment");
        }
        PersonFact::Diagnosis { system, code } => {
            out.start("Diagnosis", &[]);
            out.text("System", system_code(*system));
            out.text("Code", code);
            out.end("Diagnosis");
        }
        PersonFact::Attribute(span) => {
            out.start("Attribute", &[]);
            out.text("Kind", span.kind.as_str());
            optional(out, "From", span.from);
            optional(out, "To", span.to);
            out.end("Attribute");
        }
    }
}

fn optional(out: &mut Out, name: &str, value: Option<impl fmt::Display>) {
    if let Some(value) = value {
        out.text(name, &value.to_string());
    }
}

/// xs:dateTime in UTC, with as many fractional digits as it has (0, 3, 6 or 9), so that it
/// reads back to the same instant.
fn time(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

fn decision_code(decision: Decision) -> &'static str {
    match decision {
        Decision::Granted => "granted",
        Decision::Refused => "refused",
    }
}

fn household_code(household: Household) -> &'static str {
    match household {
        Household::Alone => "alone",
        Household::WithOthers => "with_others",
    }
}

fn system_code(system: DiagnosisSystem) -> &'static str {
    match system {
        DiagnosisSystem::Icpc2 => "ICPC2",
        DiagnosisSystem::Icd10 => "ICD10",
    }
}

/// What a reader expects at the root.
struct Root {
    namespace: &'static str,
    local: &'static str,
    what: &'static str,
}

const FAGMELDING_ROOT: Root = Root {
    namespace: NAMESPACE,
    local: "Fagmelding",
    what: "KPR_KTT fagmelding",
};

const IDENTMELDING_ROOT: Root = Root {
    namespace: IDENT_NAMESPACE,
    local: "Identmelding",
    what: "KPR_KTT_IDE identity message",
};

/// Reads a fagmelding back into its header and events.
pub fn read_fagmelding(xml: &[u8]) -> Result<Fagmelding, KttError> {
    let (text, root) = tree(xml, &FAGMELDING_ROOT)?;
    let mut fields = Fields::of(text, &root);
    let mut head = fields.of_child("Header")?;
    message_kind(&mut head)?;
    let shipment = head.value("ShipmentId", guid, A_GUID)?;
    let municipality = head.text("Municipality")?;
    let municipality_name = head.text("MunicipalityName")?;
    let reporting_date = head.value("ReportingDate", date, A_DATE)?;
    let generated = head.value("Generated", date_time, A_TIME)?;
    let mut epj = Vec::new();
    while let Some(node) = head.optional("Epj") {
        let mut product = Fields::of(text, node);
        let name = product.text("Product")?;
        let version = product.optional_text("Version")?.unwrap_or_default();
        product.end()?;
        epj.push((name, version));
    }
    let count = head.value("EventCount", number, A_COUNT)?;
    head.end()?;
    let mut events = Vec::new();
    while let Some(node) = fields.optional("Event") {
        events.push(read_event(text, node)?);
    }
    fields.end()?;
    if count != events.len() {
        return Err(KttError::Count {
            what: "events",
            said: count,
            found: events.len(),
        });
    }
    Ok(Fagmelding {
        header: Header {
            shipment,
            municipality,
            municipality_name,
            reporting_date,
            generated,
            epj,
        },
        events,
    })
}

/// Reads an identity message: its shipment id and each person's key with the identity
/// number as written (the number is not judged here, and never shown in an error).
pub fn read_identmelding(xml: &[u8]) -> Result<(Uuid, Vec<(PersonKey, String)>), KttError> {
    let (text, root) = tree(xml, &IDENTMELDING_ROOT)?;
    let mut fields = Fields::of(text, &root);
    let mut head = fields.of_child("Header")?;
    message_kind(&mut head)?;
    let shipment = head.value("ShipmentId", guid, A_GUID)?;
    head.text("Municipality")?;
    head.value("ReportingDate", date, A_DATE)?;
    head.value("Generated", date_time, A_TIME)?;
    let count = head.value("PersonCount", number, A_COUNT)?;
    head.end()?;
    let mut persons = Vec::new();
    while let Some(node) = fields.optional("Person") {
        let mut person = Fields::of(text, node);
        let key = person.value("PersonKey", parsed::<PersonKey>, A_KEY)?;
        let ident = person.text("Ident")?;
        person.end()?;
        persons.push((key, ident));
    }
    fields.end()?;
    if count != persons.len() {
        return Err(KttError::Count {
            what: "persons",
            said: count,
            found: persons.len(),
        });
    }
    Ok((shipment, persons))
}

fn message_kind(head: &mut Fields) -> Result<(), KttError> {
    head.value(
        "MessageKind",
        |s| (s == MESSAGE_KIND).then_some(()),
        "K (continuous reporting, code system 7371)",
    )
}

fn read_event(text: &str, node: &Node) -> Result<Event, KttError> {
    let mut fields = Fields::of(text, node);
    let id = fields.value("Id", guid, A_GUID)?;
    let previous = fields.optional_value("Previous", guid, A_GUID)?;
    let kind = fields.value(
        "Kind",
        |s| EventKind::ALL.into_iter().find(|k| k.as_str() == s),
        "an event kind such as start or pause_from",
    )?;
    let status = fields.value("Status", status_of, "N, M, T or C (code system 7316)")?;
    let effective_on = fields.value("EffectiveDate", date, A_DATE)?;
    let registered_at = fields.value("Registered", date_time, A_TIME)?;
    let person = fields.value("PersonKey", parsed::<PersonKey>, A_KEY)?;
    let about = if let Some(service) = fields.optional("Service") {
        read_service(text, service)?
    } else if let Some(person) = fields.optional("Person") {
        About::Person(read_person_fact(text, person)?)
    } else {
        return Err(fields.missing("Service or Person"));
    };
    fields.end()?;
    Ok(Event {
        id,
        previous,
        kind,
        status,
        effective_on,
        registered_at,
        person,
        about,
    })
}

fn read_service(text: &str, node: &Node) -> Result<About, KttError> {
    let mut fields = Fields::of(text, node);
    let service = fields.value("ServiceId", guid, A_GUID)?;
    let code = fields.value(
        "Code",
        parsed::<ServiceCode>,
        "a 9151 code such as 15 or 08.01",
    )?;
    let decision = fields.value(
        "Decision",
        |s| match s {
            "granted" => Some(Decision::Granted),
            "refused" => Some(Decision::Refused),
            _ => None,
        },
        "granted or refused",
    )?;
    let decided_on = fields.optional_value("DecidedOn", date, A_DATE)?;
    let start = fields.optional_value("Start", date, A_DATE)?;
    let end = fields.optional_value("End", date, A_DATE)?;
    let hours =
        fields.optional_value("HoursPerWeek", parsed::<HoursPerWeek>, "hours such as 7.5")?;
    let orgnr = fields.optional_text("Orgnr")?;
    let pause = match fields.optional("Pause") {
        Some(node) => {
            let mut pause = Fields::of(text, node);
            let from = pause.value("From", date, A_DATE)?;
            let to = pause.optional_value("To", date, A_DATE)?;
            pause.end()?;
            Some(Pause { from, to })
        }
        None => None,
    };
    fields.end()?;
    Ok(About::Service {
        service,
        facts: ServiceFacts {
            code,
            decision,
            decided_on,
            start,
            end,
            hours,
            orgnr,
        },
        pause,
    })
}

fn read_person_fact(text: &str, node: &Node) -> Result<PersonFact, KttError> {
    let mut fields = Fields::of(text, node);
    let fact = if let Some(node) = fields.optional("Residence") {
        let mut residence = Fields::of(text, node);
        let municipality = residence.optional_text("Municipality")?;
        let district = residence.optional_text("District")?;
        let household = residence.optional_value(
            "Household",
            |s| match s {
                "alone" => Some(Household::Alone),
                "with_others" => Some(Household::WithOthers),
                _ => None,
            },
            "alone or with_others",
        )?;
        residence.end()?;
        PersonFact::Residence(Residence {
            municipality,
            district,
            household,
        })
    } else if let Some(node) = fields.optional("Assessment") {
        let mut assessment = Fields::of(text, node);
        let assessed_on = assessment.optional_value("AssessedOn", date, A_DATE)?;
        let mut scores = Vec::new();
        while let Some(node) = assessment.optional("Score") {
            let mut score = Fields::of(text, node);
            let variable = score.text("Variable")?;
            let value = score.value("Value", parsed::<u8>, "a score: 1 to 5, or 9")?;
            score.end()?;
            scores.push((variable, value));
        }
        assessment.end()?;
        let annulled = assessed_on.is_none() && scores.is_empty();
        PersonFact::Assessment((!annulled).then_some(AssessmentState {
            assessed_on,
            scores,
        }))
    } else if let Some(node) = fields.optional("Diagnosis") {
        let mut diagnosis = Fields::of(text, node);
        let system = diagnosis.value(
            "System",
            |s| match s {
                "ICPC2" => Some(DiagnosisSystem::Icpc2),
                "ICD10" => Some(DiagnosisSystem::Icd10),
                _ => None,
            },
            "ICPC2 or ICD10",
        )?;
        let code = diagnosis.text("Code")?;
        diagnosis.end()?;
        PersonFact::Diagnosis { system, code }
    } else if let Some(node) = fields.optional("Attribute") {
        let mut attribute = Fields::of(text, node);
        let kind = attribute.value(
            "Kind",
            |s| AttributeKind::ALL.into_iter().find(|k| k.as_str() == s),
            "a person attribute such as individual_plan",
        )?;
        let from = attribute.optional_value("From", date, A_DATE)?;
        let to = attribute.optional_value("To", date, A_DATE)?;
        attribute.end()?;
        PersonFact::Attribute(AttributeSpan { kind, from, to })
    } else {
        return Err(fields.missing("Residence, Assessment, Diagnosis or Attribute"));
    };
    fields.end()?;
    Ok(fact)
}

const A_GUID: &str = "a GUID";
const A_DATE: &str = "a date such as 2026-03-02";
const A_TIME: &str = "a date and time with its offset, such as 2026-03-02T01:00:00Z";
const A_COUNT: &str = "a count";
const A_KEY: &str = "a person key of 32 hex digits";

fn guid(s: &str) -> Option<Uuid> {
    Uuid::try_parse(s).ok()
}

fn date(s: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()
}

fn date_time(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

fn number(s: &str) -> Option<usize> {
    s.parse().ok()
}

fn status_of(s: &str) -> Option<Status> {
    [
        Status::Original,
        Status::Replaces,
        Status::Supplements,
        Status::Annuls,
    ]
    .into_iter()
    .find(|status| status.code() == s)
}

fn parsed<T: FromStr>(s: &str) -> Option<T> {
    s.parse().ok()
}

/// Elements deeper than any of either message (Fagmelding/Event/Person/Assessment/Score/Value
/// is six) are refused; the limit also keeps a hostile nesting from exhausting the stack.
const MAX_DEPTH: usize = 8;

/// An element of our namespace: its text (for a value) or its elements.
struct Node {
    name: String,
    /// Byte offset of its start tag, for the line of an error.
    at: u64,
    text: String,
    children: Vec<Node>,
}

/// The document as a tree of its elements, all in `root`'s namespace, with the text it was
/// read from (for lines).
fn tree<'a>(xml: &'a [u8], root: &Root) -> Result<(&'a str, Node), KttError> {
    let text = guard::checked(xml).map_err(|refused| KttError::Refused(refused.to_string()))?;
    let mut reader = NsReader::from_str(text);
    let mut open: Vec<Node> = Vec::new();
    let mut done: Option<Node> = None;
    loop {
        let at = reader.buffer_position();
        let not_xml = |reason: &dyn fmt::Display| KttError::NotXml {
            line: line_at(text, at),
            reason: hide_identity_numbers(&reason.to_string()),
        };
        let (namespace, event) = reader.read_resolved_event().map_err(|e| not_xml(&e))?;
        match event {
            XmlEvent::Start(ref e) | XmlEvent::Empty(ref e) => {
                let local = String::from_utf8_lossy(e.local_name().as_ref()).into_owned();
                let ours = matches!(
                    namespace,
                    ResolveResult::Bound(ns) if ns.0 == root.namespace.as_bytes()
                );
                if done.is_some() {
                    return Err(not_xml(&"a second element after the root"));
                }
                if open.is_empty() && !(ours && local == root.local) {
                    return Err(KttError::NotOurs {
                        expected: root.what,
                        found: qualified(&local, &namespace),
                    });
                }
                let structure = |what: String| KttError::Structure {
                    line: line_at(text, at),
                    what: hide_identity_numbers(&what),
                };
                if !ours {
                    return Err(structure(format!(
                        "{} is not an element of the {}",
                        qualified(&local, &namespace),
                        root.what
                    )));
                }
                if open.len() >= MAX_DEPTH {
                    return Err(structure(format!("{local} is nested too deep")));
                }
                let node = Node {
                    name: local,
                    at,
                    text: String::new(),
                    children: Vec::new(),
                };
                if let XmlEvent::Empty(_) = event {
                    close(node, &mut open, &mut done);
                } else {
                    open.push(node);
                }
            }
            XmlEvent::Text(ref t) => {
                let content = t.xml10_content().map_err(|e| not_xml(&e))?;
                match open.last_mut() {
                    Some(node) => node.text.push_str(&content),
                    None if content.trim().is_empty() => {}
                    None => return Err(not_xml(&"text outside the root element")),
                }
            }
            XmlEvent::CData(ref t) => {
                let content = t.xml10_content().map_err(|e| not_xml(&e))?;
                match open.last_mut() {
                    Some(node) => node.text.push_str(&content),
                    None => return Err(not_xml(&"text outside the root element")),
                }
            }
            // quick-xml ends a text at each reference; the element's text continues after it.
            XmlEvent::GeneralRef(ref r) => {
                let Some(node) = open.last_mut() else {
                    return Err(not_xml(&"a reference outside the root element"));
                };
                match r.resolve_char_ref().map_err(|e| not_xml(&e))? {
                    Some(c) => node.text.push(c),
                    None => {
                        let name = r.decode().map_err(|e| not_xml(&e))?;
                        let value = resolve_predefined_entity(&name)
                            .ok_or_else(|| not_xml(&format!("&{name}; is not defined")))?;
                        node.text.push_str(value);
                    }
                }
            }
            XmlEvent::End(_) => {
                let Some(node) = open.pop() else {
                    return Err(not_xml(&"an end tag without its start"));
                };
                close(node, &mut open, &mut done);
            }
            XmlEvent::DocType(_) => return Err(not_xml(&"a DOCTYPE is not taken")),
            XmlEvent::Eof if !open.is_empty() => {
                return Err(not_xml(&"the document ends before its elements are closed"));
            }
            XmlEvent::Eof => {
                return match done {
                    Some(node) => Ok((text, node)),
                    None => Err(KttError::NotOurs {
                        expected: root.what,
                        found: "missing".to_string(),
                    }),
                };
            }
            XmlEvent::Comment(_) | XmlEvent::Decl(_) | XmlEvent::PI(_) => {}
        }
    }
}

/// A closed element joins its parent, or is the root.
fn close(mut node: Node, open: &mut [Node], done: &mut Option<Node>) {
    let trimmed = node.text.trim();
    if trimmed.len() != node.text.len() {
        node.text = trimmed.to_string();
    }
    match open.last_mut() {
        Some(parent) => parent.children.push(node),
        None => *done = Some(node),
    }
}

fn qualified(local: &str, namespace: &ResolveResult) -> String {
    match namespace {
        ResolveResult::Bound(ns) => {
            format!("{local} in {}", String::from_utf8_lossy(ns.as_ref()))
        }
        _ => format!("{local} in no namespace"),
    }
}

fn line_at(text: &str, at: u64) -> u32 {
    guard::line_at(text.as_bytes(), usize::try_from(at).unwrap_or(usize::MAX))
}

/// The elements of one element, taken in the order the schema gives them.
struct Fields<'a> {
    text: &'a str,
    parent: &'a Node,
    rest: Peekable<slice::Iter<'a, Node>>,
}

impl<'a> Fields<'a> {
    fn of(text: &'a str, parent: &'a Node) -> Fields<'a> {
        Fields {
            text,
            parent,
            rest: parent.children.iter().peekable(),
        }
    }

    fn optional(&mut self, name: &str) -> Option<&'a Node> {
        self.rest.next_if(|node| node.name == name)
    }

    fn required(&mut self, name: &str) -> Result<&'a Node, KttError> {
        match self.optional(name) {
            Some(node) => Ok(node),
            None => Err(self.missing(name)),
        }
    }

    /// The elements of the next element, which must be `name`.
    fn of_child(&mut self, name: &str) -> Result<Fields<'a>, KttError> {
        let node = self.required(name)?;
        Ok(Fields::of(self.text, node))
    }

    fn missing(&mut self, name: &str) -> KttError {
        let parent = &self.parent.name;
        match self.rest.peek() {
            Some(next) => KttError::Structure {
                line: line_at(self.text, next.at),
                what: format!("{parent} has {} where {name} belongs", next.name),
            },
            None => KttError::Structure {
                line: line_at(self.text, self.parent.at),
                what: format!("{parent} lacks {name}"),
            },
        }
    }

    /// No element is left.
    fn end(mut self) -> Result<(), KttError> {
        match self.rest.next() {
            Some(next) => Err(KttError::Structure {
                line: line_at(self.text, next.at),
                what: format!(
                    "{} has {}, which does not belong there",
                    self.parent.name, next.name
                ),
            }),
            None => Ok(()),
        }
    }

    fn text(&mut self, name: &str) -> Result<String, KttError> {
        let node = self.required(name)?;
        Ok(self.leaf(node)?.to_string())
    }

    fn optional_text(&mut self, name: &str) -> Result<Option<String>, KttError> {
        match self.optional(name) {
            Some(node) => Ok(Some(self.leaf(node)?.to_string())),
            None => Ok(None),
        }
    }

    fn value<T>(
        &mut self,
        name: &str,
        parse: impl FnOnce(&str) -> Option<T>,
        expected: &'static str,
    ) -> Result<T, KttError> {
        let node = self.required(name)?;
        self.parse(node, parse, expected)
    }

    fn optional_value<T>(
        &mut self,
        name: &str,
        parse: impl FnOnce(&str) -> Option<T>,
        expected: &'static str,
    ) -> Result<Option<T>, KttError> {
        match self.optional(name) {
            Some(node) => self.parse(node, parse, expected).map(Some),
            None => Ok(None),
        }
    }

    fn parse<T>(
        &self,
        node: &Node,
        parse: impl FnOnce(&str) -> Option<T>,
        expected: &'static str,
    ) -> Result<T, KttError> {
        let text = self.leaf(node)?;
        parse(text).ok_or_else(|| KttError::Value {
            line: line_at(self.text, node.at),
            element: node.name.clone(),
            value: shown_value(text),
            expected,
        })
    }

    /// The text of an element that holds a value, not elements.
    fn leaf<'n>(&self, node: &'n Node) -> Result<&'n str, KttError> {
        match node.children.first() {
            Some(child) => Err(KttError::Structure {
                line: line_at(self.text, child.at),
                what: format!("{} holds {}; it holds a value", node.name, child.name),
            }),
            None => Ok(&node.text),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::LazyLock;

    use super::*;
    use crate::message::schema::Schemas;

    static SCHEMAS: LazyLock<Schemas> = LazyLock::new(|| Schemas::load(&[]).unwrap());

    /// GUIDs with letters in every group, so that none holds a long run of digits.
    fn guid(n: u8) -> Uuid {
        Uuid::from_u128(0xa1b2_c3d4_e5f6_4a7b_8c9d_ae0f_b000_0000 | u128::from(n))
    }

    fn day(month: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, month, day).unwrap()
    }

    fn header() -> Header {
        Header {
            shipment: guid(0),
            municipality: "3207".into(),
            municipality_name: "Nordre Follo".into(),
            reporting_date: day(3, 2),
            generated: DateTime::parse_from_rfc3339("2026-03-03T01:15:00Z")
                .unwrap()
                .with_timezone(&Utc),
            epj: vec![
                ("Gerica".into(), "6.2".into()),
                ("Profil".into(), String::new()),
            ],
        }
    }

    fn service(code: ServiceCode, pause: Option<Pause>) -> About {
        About::Service {
            service: guid(200),
            facts: ServiceFacts {
                code,
                decision: Decision::Granted,
                decided_on: Some(day(1, 20)),
                start: Some(day(2, 1)),
                end: None,
                hours: Some(HoursPerWeek::from_hundredths(750)),
                orgnr: Some("974760673".into()),
            },
            pause,
        }
    }

    /// One event of every kind, the statuses in turn, optional parts both present and absent.
    fn events() -> Vec<Event> {
        let statuses = [
            Status::Original,
            Status::Replaces,
            Status::Supplements,
            Status::Annuls,
        ];
        let refused = About::Service {
            service: guid(201),
            facts: ServiceFacts {
                code: ServiceCode::new(8, 1),
                decision: Decision::Refused,
                decided_on: Some(day(2, 3)),
                start: None,
                end: None,
                hours: None,
                orgnr: None,
            },
            pause: None,
        };
        let mut ended = service(ServiceCode::new(15, 0), None);
        if let About::Service { facts, .. } = &mut ended {
            facts.end = Some(day(2, 28));
            facts.hours = Some(HoursPerWeek::from_hundredths(1225));
        }
        let abouts = [
            service(ServiceCode::new(15, 0), None),
            refused,
            service(
                ServiceCode::new(15, 0),
                Some(Pause {
                    from: day(2, 10),
                    to: None,
                }),
            ),
            service(
                ServiceCode::new(15, 0),
                Some(Pause {
                    from: day(2, 10),
                    to: Some(day(2, 14)),
                }),
            ),
            ended,
            service(ServiceCode::new(26, 0), None),
            About::Person(PersonFact::Residence(Residence {
                municipality: Some("0301".into()),
                district: Some("030101".into()),
                household: Some(Household::WithOthers),
            })),
            About::Person(PersonFact::Assessment(Some(AssessmentState {
                assessed_on: Some(day(2, 5)),
                scores: vec![("husarbeid".into(), 3), ("sosial_deltakelse".into(), 9)],
            }))),
            About::Person(PersonFact::Diagnosis {
                system: DiagnosisSystem::Icpc2,
                code: "K86".into(),
            }),
            About::Person(PersonFact::Diagnosis {
                system: DiagnosisSystem::Icd10,
                code: "F03.9".into(),
            }),
            About::Person(PersonFact::Attribute(AttributeSpan {
                kind: AttributeKind::IndividualPlan,
                from: Some(day(1, 1)),
                to: None,
            })),
            About::Person(PersonFact::Attribute(AttributeSpan {
                kind: AttributeKind::Coordinator,
                from: None,
                to: Some(day(2, 27)),
            })),
        ];
        EventKind::ALL
            .into_iter()
            .zip(abouts)
            .enumerate()
            .map(|(i, (kind, about))| {
                let n = u8::try_from(i).unwrap();
                Event {
                    id: guid(n + 1),
                    previous: (i % 3 != 0).then(|| guid(n + 100)),
                    kind,
                    status: statuses[i % statuses.len()],
                    effective_on: day(2, 1 + u32::from(n)),
                    registered_at: DateTime::from_timestamp(
                        1_772_000_000 + i64::from(n),
                        1000 * u32::from(n),
                    )
                    .unwrap(),
                    person: PersonKey([0xa0 + n; 16]),
                    about,
                }
            })
            .collect()
    }

    fn valid(msg_type: &str, xml: &[u8]) {
        if let Err(invalid) = SCHEMAS.validate_payload(msg_type, xml) {
            panic!("{invalid}\n{}", String::from_utf8_lossy(xml));
        }
    }

    fn has_eleven_digits(text: &str) -> bool {
        text.as_bytes()
            .split(|b| !b.is_ascii_digit())
            .any(|run| run.len() >= 11)
    }

    #[test]
    fn every_kind_and_status_validates_and_reads_back() {
        let events = events();
        assert_eq!(events.len(), EventKind::ALL.len());
        let xml = fagmelding(&header(), &events);
        valid(FAGMELDING, &xml);
        let read = read_fagmelding(&xml).unwrap();
        assert_eq!(read.header, header());
        assert_eq!(read.events, events);
        let text = String::from_utf8(xml).unwrap();
        assert!(!has_eleven_digits(&text), "{text}");
        assert!(text.contains("<MessageKind>K</MessageKind>"), "{text}");
        assert!(
            text.contains("<Product>Profil</Product>\n    </Epj>"),
            "{text}"
        );
        for status in ["N", "M", "T", "C"] {
            assert!(
                text.contains(&format!("<Status>{status}</Status>")),
                "{status}"
            );
        }
        assert!(text.contains("<Assessment>"), "{text}");
    }

    #[test]
    fn an_annulled_assessment_is_an_empty_element() {
        let mut event = events().remove(7);
        event.about = About::Person(PersonFact::Assessment(None));
        let xml = fagmelding(&header(), std::slice::from_ref(&event));
        valid(FAGMELDING, &xml);
        assert!(String::from_utf8_lossy(&xml).contains("<Assessment/>"));
        assert_eq!(read_fagmelding(&xml).unwrap().events, [event]);
    }

    #[test]
    fn special_characters_are_escaped_and_read_back() {
        let mut header = header();
        header.municipality_name = "Ås & <Vestby>".into();
        header.epj = vec![("EPJ \"Omsorg\" 'Pluss'".into(), "2.0 & <beta>".into())];
        let xml = fagmelding(&header, &events()[..1]);
        valid(FAGMELDING, &xml);
        let text = String::from_utf8_lossy(&xml);
        assert!(
            text.contains("<MunicipalityName>Ås &amp; &lt;Vestby&gt;</MunicipalityName>"),
            "{text}"
        );
        assert_eq!(read_fagmelding(&xml).unwrap().header, header);
        // Character references and CDATA read as the text they stand for.
        let other = text.replace(
            "<MunicipalityName>Ås &amp; &lt;Vestby&gt;</MunicipalityName>",
            "<MunicipalityName>&#197;s &amp; <![CDATA[<Vestby>]]></MunicipalityName>",
        );
        assert_eq!(
            read_fagmelding(other.as_bytes())
                .unwrap()
                .header
                .municipality_name,
            "Ås & <Vestby>"
        );
    }

    #[test]
    fn an_empty_day_is_valid() {
        let xml = fagmelding(&header(), &[]);
        valid(FAGMELDING, &xml);
        let read = read_fagmelding(&xml).unwrap();
        assert_eq!(read.header, header());
        assert!(read.events.is_empty());
    }

    #[test]
    fn the_identity_message_validates_and_reads_back() {
        let birth = NaiveDate::from_ymd_opt(1950, 6, 1).unwrap();
        let persons: Vec<(PersonKey, Ident)> = (100..200)
            .filter_map(|individual| crate::model::ident::synthetic(birth, individual))
            .take(3)
            .zip(0u8..)
            .map(|(ident, n)| (PersonKey([n; 16]), Ident::new(ident)))
            .collect();
        assert_eq!(persons.len(), 3);
        let xml = identmelding(&header(), &persons);
        valid(IDENTMELDING, &xml);
        let (shipment, read) = read_identmelding(&xml).unwrap();
        assert_eq!(shipment, header().shipment);
        let expected: Vec<(PersonKey, String)> = persons
            .iter()
            .map(|(key, ident)| (*key, ident.expose().to_string()))
            .collect();
        assert_eq!(read, expected);
        // The name and the EPJ products stay in the fagmelding.
        let text = String::from_utf8_lossy(&xml);
        assert!(
            !text.contains("Nordre Follo") && !text.contains("Gerica"),
            "{text}"
        );
        valid(IDENTMELDING, &identmelding(&header(), &[]));
    }

    #[test]
    fn the_schemas_are_tight() {
        let xml = String::from_utf8(fagmelding(&header(), &events())).unwrap();
        for (from, to) in [
            ("<Status>N</Status>", "<Status>X</Status>"),
            ("<Kind>start</Kind>", "<Kind>begin</Kind>"),
            (
                "<MessageKind>K</MessageKind>",
                "<MessageKind>A</MessageKind>",
            ),
            (
                "<Municipality>3207</Municipality>",
                "<Municipality>301</Municipality>",
            ),
            ("<Code>15</Code>", "<Code>15.1</Code>"),
            (
                "<HoursPerWeek>7.5</HoursPerWeek>",
                "<HoursPerWeek>169</HoursPerWeek>",
            ),
            ("<Value>3</Value>", "<Value>6</Value>"),
            ("<Orgnr>974760673</Orgnr>", "<Orgnr>97476067</Orgnr>"),
            ("<District>030101</District>", "<District>0301</District>"),
            ("<Code>K86</Code>", "<Code>k86</Code>"),
            (
                "<EffectiveDate>2026-02-01</EffectiveDate>",
                "<EffectiveDate>2026-02-01Z</EffectiveDate>",
            ),
            ("Z</Registered>", "</Registered>"),
            // Two events with one id.
            (
                &format!("<Id>{}</Id>", guid(2)),
                &format!("<Id>{}</Id>", guid(1)),
            ),
        ] {
            assert!(xml.contains(from), "{from}");
            let changed = xml.replacen(from, to, 1);
            let invalid = SCHEMAS
                .validate_payload(FAGMELDING, changed.as_bytes())
                .expect_err(to);
            assert_eq!(invalid.apprec_code(), "T02", "{to}: {invalid}");
        }
        let key = PersonKey([0xab; 16]).to_string();
        let upper = xml.replace(&key, &key.to_uppercase());
        assert!(
            SCHEMAS
                .validate_payload(FAGMELDING, upper.as_bytes())
                .is_err()
        );
        // An identity number has no place in the fagmelding.
        let with_ident = xml.replacen(
            "</PersonKey>",
            "</PersonKey>\n    <Ident>01010112345</Ident>",
            1,
        );
        assert!(
            SCHEMAS
                .validate_payload(FAGMELDING, with_ident.as_bytes())
                .is_err()
        );
    }

    #[test]
    fn another_namespace_or_root_is_refused() {
        let xml = String::from_utf8(fagmelding(&header(), &events())).unwrap();
        let other = xml.replace(NAMESPACE, "urn:no:kpr-bridge:ktt:v0.2");
        let error = read_fagmelding(other.as_bytes()).unwrap_err();
        assert_eq!(
            error,
            KttError::NotOurs {
                expected: "KPR_KTT fagmelding",
                found: "Fagmelding in urn:no:kpr-bridge:ktt:v0.2".into()
            }
        );
        assert!(matches!(
            read_identmelding(xml.as_bytes()),
            Err(KttError::NotOurs { .. })
        ));
        let ident = identmelding(&header(), &[]);
        assert!(matches!(
            read_fagmelding(&ident),
            Err(KttError::NotOurs { .. })
        ));
        // An element of another namespace inside.
        let foreign = xml.replacen(
            "<Kind>",
            "<x:Note xmlns:x=\"urn:other\">hi</x:Note>\n    <Kind>",
            1,
        );
        let error = read_fagmelding(foreign.as_bytes()).unwrap_err();
        assert!(error.to_string().contains("Note in urn:other"), "{error}");
    }

    #[test]
    fn faults_are_named_with_their_line() {
        let xml = String::from_utf8(fagmelding(&header(), &events())).unwrap();
        let line = |needle: &str| guard::line_at(xml.as_bytes(), xml.find(needle).unwrap());

        let bad_date = xml.replacen("2026-02-01<", "2026-02-30<", 1);
        let error = read_fagmelding(bad_date.as_bytes()).unwrap_err();
        assert_eq!(
            error.to_string(),
            format!(
                "line {}: EffectiveDate holds '2026-02-30', which is not a date such as 2026-03-02",
                line("<EffectiveDate>2026-02-01<")
            )
        );

        let no_kind = xml.replacen("<Kind>start</Kind>", "", 1);
        let error = read_fagmelding(no_kind.as_bytes()).unwrap_err();
        assert!(
            error
                .to_string()
                .ends_with("Event has Status where Kind belongs"),
            "{error}"
        );

        let count = xml.replace("<EventCount>12<", "<EventCount>11<");
        assert_eq!(
            read_fagmelding(count.as_bytes()).unwrap_err(),
            KttError::Count {
                what: "events",
                said: 11,
                found: 12
            }
        );

        let cut = &xml[..xml.len() / 2];
        assert!(matches!(
            read_fagmelding(cut.as_bytes()),
            Err(KttError::NotXml { .. })
        ));
        let doctype = xml.replacen(
            "<Fagmelding",
            "<!DOCTYPE x [<!ENTITY e \"e\">]>\n<Fagmelding",
            1,
        );
        assert!(matches!(
            read_fagmelding(doctype.as_bytes()),
            Err(KttError::Refused(_))
        ));
    }

    #[test]
    fn an_identity_number_in_a_fault_is_not_shown() {
        let persons = [(PersonKey([1; 16]), Ident::new("01010112345"))];
        let xml = String::from_utf8(identmelding(&header(), &persons)).unwrap();
        let bad_key = xml.replace(&PersonKey([1; 16]).to_string(), "01010112345");
        let error = read_identmelding(bad_key.as_bytes()).unwrap_err();
        let shown = format!("{error} {error:?}");
        assert!(
            shown.contains("PersonKey") && !shown.contains("01010112345"),
            "{shown}"
        );
        let broken = xml.replace("</Ident>", "</Idnet>");
        let error = read_identmelding(broken.as_bytes()).unwrap_err();
        assert!(
            !format!("{error} {error:?}").contains("01010112345"),
            "{error}"
        );
    }
}
