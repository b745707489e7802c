//! The daily message in the register's format for continuous reporting: HIS 1135 "IPLOS i
//! KPR", XPR(ipl) 56.0.0 (`http://www.npr.no/xmlstds/56_0_0_ipl`, built in under
//! `schemas/official/ipl-56.0.0/`). One message: the head (`Melding`, type K), the
//! notifications — each one service event with its one `Bruker`, identity number included —
//! the contacts and the municipality.
//!
//! [`write`] streams notifications to any `Write`; [`read`] reads a message back (tests, the
//! test receiver, and the register's own example). Every choice about the format is here.

use std::io::{self, Write};

use chrono::{NaiveDate, NaiveDateTime};
use quick_xml::NsReader;
use quick_xml::escape::escape;
use quick_xml::events::Event;
use quick_xml::name::ResolveResult;
use serde::{Deserialize, Serialize};
use thiserror::Error;
use uuid::Uuid;

use super::guard;
use crate::model::register::Contact;
use crate::redact::hide_identity_numbers;

pub const NAMESPACE: &str = "http://www.npr.no/xmlstds/56_0_0_ipl";
/// `Melding/@versjon`.
pub const VERSION: &str = "56.0.0";
/// `Melding/@meldingstype`, code system 7371: K, continuous updates.
pub const MESSAGE_KIND: &str = "K";
/// The `notifikasjonForrigeGUID` of the very first notification of a municipality.
pub const FIRST_PREVIOUS: Uuid = Uuid::nil();

/// Code system 7316 as HIS 1135 uses it: T (supplement) is not to be used yet.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Status {
    /// N: the first report of an event.
    #[serde(rename = "N")]
    Original,
    /// M: replaces the N original it refers to.
    #[serde(rename = "M")]
    Replaces,
    /// C: cancels the N original it refers to.
    #[serde(rename = "C")]
    Cancels,
}

impl Status {
    pub fn code(self) -> &'static str {
        match self {
            Status::Original => "N",
            Status::Replaces => "M",
            Status::Cancels => "C",
        }
    }

    fn from_code(code: &str) -> Option<Status> {
        Some(match code {
            "N" => Status::Original,
            "M" => Status::Replaces,
            "C" => Status::Cancels,
            _ => return None,
        })
    }
}

/// The five service events of 56.0.0, in the XSD's order inside a `Notifikasjon`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    Start,
    StopUntil,
    StopFrom,
    ProviderChanged,
    End,
}

impl EventKind {
    pub const ALL: [EventKind; 5] = [
        EventKind::Start,
        EventKind::StopUntil,
        EventKind::StopFrom,
        EventKind::ProviderChanged,
        EventKind::End,
    ];

    /// The element's name.
    pub fn element(self) -> &'static str {
        match self {
            EventKind::Start => "TjenesteStart",
            EventKind::StopUntil => "MidlertidigStoppTil",
            EventKind::StopFrom => "MidlertidigStoppFra",
            EventKind::ProviderChanged => "TjenesteutforerEndret",
            EventKind::End => "TjenesteSlutt",
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Start => "start",
            EventKind::StopUntil => "stop_until",
            EventKind::StopFrom => "stop_from",
            EventKind::ProviderChanged => "provider_changed",
            EventKind::End => "end",
        }
    }

    fn from_element(name: &str) -> Option<EventKind> {
        EventKind::ALL.into_iter().find(|k| k.element() == name)
    }
}

/// The message head beyond what is fixed.
#[derive(Clone, Debug)]
pub struct Header {
    /// `leverandor`, `navnEPJ`, `versjonEPJ`: the EPJ in use.
    pub supplier: String,
    pub epj_name: String,
    pub epj_version: String,
    /// `lokalident`: which part of which day this message is, for people reading it.
    pub local_id: String,
    pub contacts: Vec<Contact>,
    pub municipality: String,
}

/// One notification as sent: its place in the chain and its one event.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notification {
    pub guid: Uuid,
    pub previous: Uuid,
    pub number: i64,
    pub status: Status,
    /// For M and C: the N original's GUID.
    pub corrects: Option<Uuid>,
    /// `notifikasjonTid`, Oslo's civil time.
    pub time: NaiveDateTime,
    pub event: ServiceEvent,
}

/// A service event and its user.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceEvent {
    pub kind: EventKind,
    /// One GUID per version of the event.
    pub guid: Uuid,
    /// `tjenesteID`: the EPJ's id of the service, the one the register knows.
    pub service_id: String,
    /// `tjenesteType`, 9151's main number (avlastning 8.01 and 8.02 are both 8).
    pub service_type: u8,
    /// `hendelseRegTid`, Oslo's civil time.
    pub registered: NaiveDateTime,
    pub orgnr: Option<String>,
    /// `hendelseDato`.
    pub day: NaiveDate,
    /// `midlertidigStoppID`, in stop events only.
    pub stop_id: Option<String>,
    pub user: User,
}

/// `Bruker`. The identity number travels here and nowhere else in the daily flow.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub patient_guid: Uuid,
    /// `brukerNr`: the EPJ's person id, the same for the person in all years.
    pub user_number: String,
    pub district: Option<String>,
    pub fid: String,
    /// Code system 9032.
    pub id_type: u8,
}

impl std::fmt::Debug for User {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("User")
            .field("patient_guid", &self.patient_guid)
            .field("user_number", &self.user_number)
            .field("district", &self.district)
            .field("fid", &"<redacted>")
            .field("id_type", &self.id_type)
            .finish()
    }
}

fn time(t: NaiveDateTime) -> String {
    t.format("%Y-%m-%dT%H:%M:%S").to_string()
}

/// Writes the head of a message.
pub fn write_head(out: &mut impl Write, header: &Header) -> io::Result<()> {
    writeln!(out, r#"<?xml version="1.0" encoding="UTF-8"?>"#)?;
    writeln!(
        out,
        r#"<Melding xmlns="{NAMESPACE}" versjon="{VERSION}" meldingstype="{MESSAGE_KIND}" leverandor="{}" navnEPJ="{}" versjonEPJ="{}" versjonUt="kpr-bridge {}" lokalident="{}">"#,
        escape(&header.supplier),
        escape(&header.epj_name),
        escape(&header.epj_version),
        env!("CARGO_PKG_VERSION"),
        escape(&header.local_id),
    )
}

/// Writes one notification.
pub fn write_notification(out: &mut impl Write, n: &Notification) -> io::Result<()> {
    write!(
        out,
        r#" <Notifikasjon statusNotifikasjon="{}" notifikasjonTid="{}" notifikasjonGUID="{}" notifikasjonForrigeGUID="{}" notifikasjonLopeNr="{}""#,
        n.status.code(),
        time(n.time),
        n.guid,
        n.previous,
        n.number
    )?;
    if let Some(original) = n.corrects {
        write!(out, r#" notifikasjonRef="{original}""#)?;
    }
    writeln!(out, ">")?;
    let e = &n.event;
    write!(
        out,
        r#"  <{} hendelseGUID="{}" tjenesteID="{}" tjenesteType="{}" hendelseRegTid="{}" hendelseDato="{}""#,
        e.kind.element(),
        e.guid,
        escape(&e.service_id),
        e.service_type,
        time(e.registered),
        e.day.format("%Y-%m-%d"),
    )?;
    if let Some(stop) = &e.stop_id {
        write!(out, r#" midlertidigStoppID="{}""#, escape(stop))?;
    }
    if let Some(orgnr) = &e.orgnr {
        write!(out, r#" tjenesteOrgNr="{}""#, escape(orgnr))?;
    }
    writeln!(out, ">")?;
    let u = &e.user;
    write!(
        out,
        r#"   <Bruker pasientGUID="{}" brukerNr="{}""#,
        u.patient_guid,
        escape(&u.user_number)
    )?;
    if let Some(district) = &u.district {
        write!(out, r#" bydel="{}""#, escape(district))?;
    }
    writeln!(out, r#" fid="{}" typeID="{}"/>"#, escape(&u.fid), u.id_type)?;
    writeln!(out, "  </{}>", e.kind.element())?;
    writeln!(out, " </Notifikasjon>")
}

/// Writes the contacts, the municipality and the end of the message.
pub fn write_tail(out: &mut impl Write, header: &Header) -> io::Result<()> {
    super::out::write_contacts(out, &header.contacts)?;
    writeln!(
        out,
        r#" <Kommune kommuneNr="{}"/>"#,
        escape(&header.municipality)
    )?;
    writeln!(out, "</Melding>")
}

/// A whole message in memory.
pub fn write<'a>(
    header: &Header,
    notifications: impl IntoIterator<Item = &'a Notification>,
) -> Vec<u8> {
    let mut out = Vec::new();
    write_head(&mut out, header).expect("writing to a Vec does not fail");
    for n in notifications {
        write_notification(&mut out, n).expect("writing to a Vec does not fail");
    }
    write_tail(&mut out, header).expect("writing to a Vec does not fail");
    out
}

/// A message as read back.
#[derive(Clone, Debug, Default)]
pub struct Message {
    pub municipality: String,
    pub local_id: String,
    /// `typeKontaktperson` of each contact.
    pub contact_types: Vec<String>,
    pub notifications: Vec<Notification>,
}

#[derive(Debug, Error)]
pub enum ReadError {
    #[error("{0}")]
    Refused(String),
    #[error("line {line}: not well-formed XML: {reason}")]
    NotXml { line: u32, reason: String },
    #[error("the root element is {found}, not XPR(ipl) 56.0.0's Melding")]
    NotIpl { found: String },
    #[error("line {line}: {what}")]
    Bad { line: u32, what: String },
}

/// Reads a daily message back. Values the writer would not write are refused by line.
pub fn read(xml: &[u8]) -> Result<Message, ReadError> {
    let text = guard::checked(xml).map_err(|refused| ReadError::Refused(refused.to_string()))?;
    let mut reader = NsReader::from_str(text);
    let mut message = Message::default();
    let mut depth = 0usize;
    let mut notification: Option<Notification> = None;
    loop {
        let at = usize::try_from(reader.buffer_position()).unwrap_or(usize::MAX);
        let line = || guard::line_at(text.as_bytes(), at);
        let (resolved, event) = reader
            .read_resolved_event()
            .map_err(|e| ReadError::NotXml {
                line: line(),
                reason: hide_identity_numbers(&e.to_string()),
            })?;
        match event {
            Event::Start(ref e) | Event::Empty(ref e) => {
                let local = String::from_utf8_lossy(e.local_name().into_inner()).into_owned();
                let attribute = |name: &str| -> Option<String> {
                    let a = e.try_get_attribute(name).ok().flatten()?;
                    let raw = std::str::from_utf8(&a.value).ok()?;
                    quick_xml::escape::unescape(raw)
                        .ok()
                        .map(|v| v.into_owned())
                };
                let bad = |what: String| ReadError::Bad { line: line(), what };
                let need = |name: &str| {
                    attribute(name).ok_or_else(|| bad(format!("{local} has no {name}")))
                };
                let guid = |name: &str| {
                    let value = need(name)?;
                    Uuid::parse_str(value.trim_matches(['{', '}']))
                        .map_err(|_| bad(format!("{local}/@{name} is not a GUID")))
                };
                let date_time = |name: &str| {
                    let value = need(name)?;
                    NaiveDateTime::parse_from_str(&value, "%Y-%m-%dT%H:%M:%S").map_err(|_| {
                        bad(format!("{local}/@{name} '{value}' is not a date and time"))
                    })
                };
                if depth == 0 {
                    let ours = matches!(resolved, ResolveResult::Bound(ns) if ns.0 == NAMESPACE.as_bytes());
                    if local != "Melding" || !ours {
                        return Err(ReadError::NotIpl { found: local });
                    }
                    message.local_id = attribute("lokalident").unwrap_or_default();
                }
                match local.as_str() {
                    "Notifikasjon" => {
                        let code = need("statusNotifikasjon")?;
                        notification = Some(Notification {
                            guid: guid("notifikasjonGUID")?,
                            previous: guid("notifikasjonForrigeGUID")?,
                            number: need("notifikasjonLopeNr")?.parse().map_err(|_| {
                                bad("notifikasjonLopeNr is not a number".to_string())
                            })?,
                            status: Status::from_code(&code)
                                .ok_or_else(|| bad(format!("status '{code}' is not N, M or C")))?,
                            corrects: attribute("notifikasjonRef")
                                .map(|_| guid("notifikasjonRef"))
                                .transpose()?,
                            time: date_time("notifikasjonTid")?,
                            event: ServiceEvent {
                                kind: EventKind::Start,
                                guid: Uuid::nil(),
                                service_id: String::new(),
                                service_type: 0,
                                registered: NaiveDateTime::default(),
                                orgnr: None,
                                day: NaiveDate::default(),
                                stop_id: None,
                                user: User {
                                    patient_guid: Uuid::nil(),
                                    user_number: String::new(),
                                    district: None,
                                    fid: String::new(),
                                    id_type: 0,
                                },
                            },
                        });
                    }
                    "Bruker" => {
                        let Some(n) = notification.as_mut() else {
                            return Err(bad("Bruker outside a notification".to_string()));
                        };
                        n.event.user = User {
                            patient_guid: guid("pasientGUID")?,
                            user_number: need("brukerNr")?,
                            district: attribute("bydel"),
                            fid: need("fid")?,
                            id_type: need("typeID")?
                                .parse()
                                .map_err(|_| bad("typeID is not a number".to_string()))?,
                        };
                    }
                    "Kontaktperson" => message
                        .contact_types
                        .push(attribute("typeKontaktperson").unwrap_or_default()),
                    "Kommune" => message.municipality = need("kommuneNr")?,
                    name => {
                        if let Some(kind) = EventKind::from_element(name) {
                            let Some(n) = notification.as_mut() else {
                                return Err(bad(format!("{name} outside a notification")));
                            };
                            let day = need("hendelseDato")?;
                            n.event = ServiceEvent {
                                kind,
                                guid: guid("hendelseGUID")?,
                                service_id: need("tjenesteID")?,
                                service_type: need("tjenesteType")?
                                    .parse()
                                    .map_err(|_| bad("tjenesteType is not a number".to_string()))?,
                                registered: date_time("hendelseRegTid")?,
                                orgnr: attribute("tjenesteOrgNr"),
                                day: NaiveDate::parse_from_str(&day, "%Y-%m-%d").map_err(|_| {
                                    bad(format!("hendelseDato '{day}' is not a date"))
                                })?,
                                stop_id: attribute("midlertidigStoppID"),
                                user: n.event.user.clone(),
                            };
                        }
                    }
                }
                if matches!(event, Event::Start(_)) {
                    depth += 1;
                } else if local == "Notifikasjon" {
                    return Err(bad("a notification without an event".to_string()));
                }
            }
            Event::End(ref e) => {
                depth = depth.saturating_sub(1);
                if e.local_name().into_inner() == b"Notifikasjon" {
                    message.notifications.extend(notification.take());
                }
            }
            Event::Eof => return Ok(message),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header() -> Header {
        Header {
            supplier: "Leverandør & Co".into(),
            epj_name: "EPJ".into(),
            epj_version: "9.1".into(),
            local_id: "2026-03-02 part 1 of 1".into(),
            contacts: vec![
                Contact {
                    kind: 16,
                    name: "Kari".into(),
                    phone: Some("+47 40000000".into()),
                    email: "kari@example.invalid".into(),
                },
                Contact {
                    kind: 17,
                    name: "Ola".into(),
                    phone: None,
                    email: "ola@example.invalid".into(),
                },
            ],
            municipality: "4601".into(),
        }
    }

    fn notification(number: i64, kind: EventKind, status: Status) -> Notification {
        let at = NaiveDate::from_ymd_opt(2026, 3, 2)
            .unwrap()
            .and_hms_opt(4, 0, 1)
            .unwrap();
        Notification {
            guid: Uuid::new_v4(),
            previous: FIRST_PREVIOUS,
            number,
            status,
            corrects: (status != Status::Original).then(Uuid::new_v4),
            time: at,
            event: ServiceEvent {
                kind,
                guid: Uuid::new_v4(),
                service_id: "T<1>".into(),
                service_type: 18,
                registered: at,
                orgnr: Some("974760673".into()),
                day: NaiveDate::from_ymd_opt(2026, 3, 1).unwrap(),
                stop_id: matches!(kind, EventKind::StopFrom | EventKind::StopUntil)
                    .then(|| "stop-1".to_string()),
                user: User {
                    patient_guid: Uuid::new_v4(),
                    user_number: "p&1".into(),
                    district: Some("01".into()),
                    fid: "13816199926".into(),
                    id_type: 1,
                },
            },
        }
    }

    #[test]
    fn every_event_kind_and_status_is_valid_and_reads_back_as_written() {
        let schemas = crate::message::schema::Schemas::load(&[]).unwrap();
        let notifications: Vec<Notification> = EventKind::ALL
            .into_iter()
            .zip(
                [Status::Original, Status::Replaces, Status::Cancels]
                    .into_iter()
                    .cycle(),
            )
            .enumerate()
            .map(|(i, (kind, status))| notification(i as i64 + 1, kind, status))
            .collect();
        let xml = write(&header(), &notifications);
        schemas
            .validate_payload(crate::model::register::DEFAULT_MSG_TYPE, &xml)
            .unwrap_or_else(|e| panic!("{e}\n{}", String::from_utf8_lossy(&xml)));
        let read = read(&xml).unwrap();
        assert_eq!(read.notifications, notifications);
        assert_eq!(read.municipality, "4601");
        assert_eq!(read.contact_types, ["16", "17"]);
        assert_eq!(read.local_id, "2026-03-02 part 1 of 1");
    }

    #[test]
    fn the_registers_example_reads() {
        let xml = include_bytes!("../../tests/data/official/ipl56-example-valid.xml");
        let message = read(xml).unwrap();
        assert_eq!(message.notifications.len(), 2);
        assert_eq!(message.notifications[0].previous, FIRST_PREVIOUS);
        assert_eq!(
            message.notifications[1].previous,
            message.notifications[0].guid
        );
        assert_eq!(message.notifications[1].event.kind, EventKind::End);
    }

    #[test]
    fn a_users_identity_number_is_not_in_its_debug_text() {
        let n = notification(1, EventKind::Start, Status::Original);
        assert!(!format!("{n:?}").contains("13816199926"));
    }
}
